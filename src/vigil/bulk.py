"""What Kibana's `_bulk_action` routes share (conversations, prompts, anonymization fields).

Each item runs in its own transaction, so one bad item fails alone and is reported with its own
status. Kibana answers any failed item with HTTP 500; Vigil keeps HTTP 200 and lists each failure
(docs/api.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from vigil.errors import BadRequest, NotFound, VigilError


def require_delete_target(query: str | None, ids: Sequence[str] | None) -> None:
    """An empty delete would otherwise match everything the caller may delete."""
    if not query and not ids:
        raise BadRequest("[request body]: delete: give `query` or `ids` naming what to delete")


def check_operation_limit(
    create: Sequence[Any] | None, update: Sequence[Any] | None, delete_ids: Sequence[str] | None, limit: int
) -> None:
    """Kibana refuses a bulk action with more items than its settings table shows on a page."""
    if len(create or ()) + len(update or ()) + len(delete_ids or ()) > limit:
        raise BadRequest(f"More than {limit} ids sent for bulk edit action.")


class BulkOutcome:
    """Collects a bulk action's results and builds Kibana's response.

    `items_key` names the resource in the response (`conversations`, `prompts`, ...): it is used
    for `<key>_count` and for the list of failed items in each error."""

    def __init__(self, items_key: str) -> None:
        self.items_key = items_key
        self.created: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.errors: list[dict[str, Any]] = []

    def fail(self, exc: VigilError, item_id: str, name: str | None) -> None:
        self.errors.append(
            {
                "message": exc.message,
                "status_code": exc.status_code,
                "err_code": exc.error.upper().replace(" ", "_"),
                self.items_key: [{"id": item_id, "name": name}],
            }
        )

    def fail_missing(
        self, requested: Iterable[str] | None, found: Iterable[str], describe: Callable[[str], str]
    ) -> None:
        """Requested ids the caller cannot delete are 404s (whether they exist is not revealed)."""
        for missing in sorted(set(requested or ()) - set(found)):
            self.fail(NotFound(describe(missing)), missing, None)

    def response(self) -> dict[str, Any]:
        succeeded = len(self.created) + len(self.updated) + len(self.deleted)
        total = succeeded + len(self.errors)
        message = "Bulk edit completed"
        if self.errors:
            message = "Bulk edit partially failed" if succeeded else "Bulk edit failed"
        return {
            "success": not self.errors,
            "status_code": 200 if not self.errors else self.errors[0]["status_code"],
            "message": message,
            f"{self.items_key}_count": total,
            "attributes": {
                "results": {"created": self.created, "updated": self.updated, "deleted": self.deleted, "skipped": []},
                "summary": {"failed": len(self.errors), "skipped": 0, "succeeded": succeeded, "total": total},
                **({"errors": self.errors} if self.errors else {}),
            },
        }

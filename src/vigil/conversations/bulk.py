"""Kibana's `_bulk_action` on conversations: each item in its own transaction, so one bad item
fails alone and is reported with its own status, as Kibana reports them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vigil.auth.principal import Principal
from vigil.conversations import schemas, service
from vigil.db.engine import Database
from vigil.errors import BadRequest, NotFound, VigilError

SharingCallback = Callable[[str, str, service.SharingChange], None]


def perform(
    database: Database,
    principal: Principal,
    space_id: str,
    body: schemas.BulkActionRequest,
    on_sharing_change: SharingCallback,
) -> dict[str, Any]:
    if body.delete is not None and not body.delete.query and not body.delete.ids:
        # An empty delete would otherwise match every conversation the caller owns.
        raise BadRequest("[request body]: delete: give `query` or `ids` naming what to delete")
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    deleted: list[str] = []
    errors: list[dict[str, Any]] = []

    def fail(exc: VigilError, conversation_id: str, name: str | None) -> None:
        errors.append(
            {
                "message": exc.message,
                "status_code": exc.status_code,
                "err_code": exc.error.upper().replace(" ", "_"),
                "conversations": [{"id": conversation_id, "name": name}],
            }
        )

    for props in body.create or []:
        try:
            with database.session() as session:
                conversation = service.create(session, principal, space_id, props)
                created.append(service.full_document(session, conversation))
        except VigilError as exc:
            fail(exc, props.id or "", props.title)

    for update in body.update or []:
        try:
            with database.session() as session:
                conversation, sharing = service.update(session, principal, space_id, update.id, update)
                updated.append(service.full_document(session, conversation))
            if sharing is not None:
                on_sharing_change(conversation.id, conversation.title, sharing)
        except VigilError as exc:
            fail(exc, update.id, update.title)

    if body.delete is not None:
        with database.session(readonly=True) as session:
            targets = service.owned_matching(session, principal, space_id, body.delete.query, body.delete.ids)
        for missing in sorted(set(body.delete.ids or []) - {t.id for t in targets}):
            fail(NotFound(f'conversation id: "{missing}" not found'), missing, None)
        for target in targets:
            try:
                with database.session() as session:
                    service.delete_one(session, principal, space_id, target.id)
                deleted.append(target.id)
            except VigilError as exc:
                fail(exc, target.id, target.title)

    succeeded = len(created) + len(updated) + len(deleted)
    total = succeeded + len(errors)
    return {
        "success": not errors,
        # Kibana answers a partial failure with HTTP 500; Vigil keeps HTTP 200 and reports each
        # failed item with its own status instead (docs/api.md).
        "status_code": 200 if not errors else errors[0]["status_code"],
        "message": "Bulk edit completed" if not errors else "Bulk edit partially failed",
        "conversations_count": total,
        "attributes": {
            "results": {"created": created, "updated": updated, "deleted": deleted, "skipped": []},
            "summary": {"failed": len(errors), "skipped": 0, "succeeded": succeeded, "total": total},
            **({"errors": errors} if errors else {}),
        },
    }

"""Kibana's prompts `_bulk_action`: each item in its own transaction, so one bad item fails
alone and is reported with its own status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.errors import BadRequest, Conflict, NotFound, VigilError
from vigil.prompts import schemas, service


def _operations(body: schemas.PerformPromptsBulkActionRequestBody) -> int:
    return len(body.create or []) + len(body.update or []) + len((body.delete.ids if body.delete else None) or [])


def perform(
    database: Database, principal: Principal, space_id: str, body: schemas.PerformPromptsBulkActionRequestBody
) -> dict[str, Any]:
    if body.delete is not None and not body.delete.query and not body.delete.ids:
        # An empty delete would otherwise match every prompt the caller owns.
        raise BadRequest("[request body]: delete: give `query` or `ids` naming what to delete")
    if _operations(body) > schemas.MAX_BULK_OPERATIONS:
        raise BadRequest(f"More than {schemas.MAX_BULK_OPERATIONS} ids sent for bulk edit action.")
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    deleted: list[str] = []
    errors: list[dict[str, Any]] = []

    def fail(exc: VigilError, prompt_id: str, name: str | None) -> None:
        errors.append(
            {
                "message": exc.message,
                "status_code": exc.status_code,
                "err_code": exc.error.upper().replace(" ", "_"),
                "prompts": [{"id": prompt_id, "name": name}],
            }
        )

    def raced(name: str) -> Conflict:
        return Conflict(f'prompt with name: "{name}" already exists')

    for props in body.create or []:
        try:
            with database.session() as session:
                created.append(service.prompt_document(service.create(session, principal, space_id, props)))
        except VigilError as exc:
            fail(exc, "", props.name)
        except IntegrityError:  # a concurrent create of the same name won the unique index
            fail(raced(props.name), "", props.name)

    for update in body.update or []:
        try:
            with database.session() as session:
                updated.append(service.prompt_document(service.update(session, principal, space_id, update)))
        except VigilError as exc:
            fail(exc, update.id, None)

    if body.delete is not None:
        with database.session(readonly=True) as session:
            targets = service.delete_targets(session, principal, space_id, body.delete.query, body.delete.ids)
        for missing in sorted(set(body.delete.ids or []) - {prompt_id for prompt_id, _ in targets}):
            fail(NotFound(f'prompt id: "{missing}" not found'), missing, None)
        for prompt_id, name in targets:
            try:
                with database.session() as session:
                    service.delete_one(session, principal, space_id, prompt_id)
                deleted.append(prompt_id)
            except VigilError as exc:
                fail(exc, prompt_id, name)

    succeeded = len(created) + len(updated) + len(deleted)
    total = succeeded + len(errors)
    message = "Bulk edit completed"
    if errors:
        message = "Bulk edit partially failed" if succeeded else "Bulk edit failed"
    return {
        "success": not errors,
        # Kibana answers any failed item with HTTP 500; Vigil keeps HTTP 200 and reports each
        # failed item with its own status instead (docs/prompts.md).
        "status_code": 200 if not errors else errors[0]["status_code"],
        "message": message,
        "prompts_count": total,
        "attributes": {
            "results": {"created": created, "updated": updated, "deleted": deleted, "skipped": []},
            "summary": {"failed": len(errors), "skipped": 0, "succeeded": succeeded, "total": total},
            **({"errors": errors} if errors else {}),
        },
    }

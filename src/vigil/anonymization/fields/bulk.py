"""Kibana's anonymization fields `_bulk_action`: each item in its own transaction, so one bad item
fails alone and is reported with its own status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from vigil.anonymization.fields import schemas, service
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.errors import BadRequest, Conflict, NotFound, VigilError


def _operations(body: schemas.PerformAnonymizationFieldsBulkActionRequestBody) -> int:
    return len(body.create or []) + len(body.update or []) + len((body.delete.ids if body.delete else None) or [])


def perform(
    database: Database,
    principal: Principal,
    space_id: str,
    body: schemas.PerformAnonymizationFieldsBulkActionRequestBody,
) -> dict[str, Any]:
    if body.delete is not None and not body.delete.query and not body.delete.ids:
        # An empty delete would otherwise match every field of the space.
        raise BadRequest("[request body]: delete: give `query` or `ids` naming what to delete")
    if _operations(body) > schemas.MAX_BULK_OPERATIONS:
        raise BadRequest(f"More than {schemas.MAX_BULK_OPERATIONS} ids sent for bulk edit action.")
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    deleted: list[str] = []
    errors: list[dict[str, Any]] = []

    def fail(exc: VigilError, field_id: str, field: str | None) -> None:
        errors.append(
            {
                "message": exc.message,
                "status_code": exc.status_code,
                "err_code": exc.error.upper().replace(" ", "_"),
                "anonymization_fields": [{"id": field_id, "name": field}],
            }
        )

    for props in body.create or []:
        try:
            with database.session() as session:
                created.append(service.field_document(service.create(session, principal, space_id, props)))
        except VigilError as exc:
            fail(exc, "", props.field)
        except IntegrityError:  # a concurrent create of the same field won the unique index
            fail(Conflict(f'anonymization field: "{props.field}" already exists'), "", props.field)

    for update in body.update or []:
        try:
            with database.session() as session:
                updated.append(service.field_document(service.update(session, principal, space_id, update)))
        except VigilError as exc:
            fail(exc, update.id, None)

    if body.delete is not None:
        with database.session(readonly=True) as session:
            targets = service.delete_targets(session, space_id, body.delete.query, body.delete.ids)
        for missing in sorted(set(body.delete.ids or []) - {field_id for field_id, _ in targets}):
            fail(NotFound(f'anonymization field id: "{missing}" not found'), missing, None)
        for field_id, field in targets:
            try:
                with database.session() as session:
                    service.delete_one(session, space_id, field_id)
                deleted.append(field_id)
            except VigilError as exc:  # deleted meanwhile by someone else
                fail(exc, field_id, field)

    succeeded = len(created) + len(updated) + len(deleted)
    total = succeeded + len(errors)
    message = "Bulk edit completed"
    if errors:
        message = "Bulk edit partially failed" if succeeded else "Bulk edit failed"
    return {
        "success": not errors,
        # Kibana answers any failed item with HTTP 500; Vigil keeps HTTP 200 and reports each
        # failed item with its own status instead (docs/anonymization.md).
        "status_code": 200 if not errors else errors[0]["status_code"],
        "message": message,
        "anonymization_fields_count": total,
        "attributes": {
            "results": {"created": created, "updated": updated, "deleted": deleted, "skipped": []},
            "summary": {"failed": len(errors), "skipped": 0, "succeeded": succeeded, "total": total},
            **({"errors": errors} if errors else {}),
        },
    }

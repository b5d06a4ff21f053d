"""Kibana's anonymization fields `_bulk_action`: each item in its own transaction, so one bad item
fails alone and is reported with its own status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from vigil.anonymization.fields import schemas, service
from vigil.auth.principal import Principal
from vigil.bulk import BulkOutcome, check_operation_limit, require_delete_target
from vigil.db.engine import Database
from vigil.errors import Conflict, VigilError


def perform(
    database: Database,
    principal: Principal,
    space_id: str,
    body: schemas.PerformAnonymizationFieldsBulkActionRequestBody,
) -> dict[str, Any]:
    if body.delete is not None:
        require_delete_target(body.delete.query, body.delete.ids)
    check_operation_limit(
        body.create, body.update, body.delete.ids if body.delete else None, schemas.MAX_BULK_OPERATIONS
    )
    outcome = BulkOutcome("anonymization_fields")

    for props in body.create or []:
        try:
            with database.session() as session:
                outcome.created.append(service.field_document(service.create(session, principal, space_id, props)))
        except VigilError as exc:
            outcome.fail(exc, "", props.field)
        except IntegrityError:  # a concurrent create of the same field won the unique index
            outcome.fail(Conflict(f'anonymization field: "{props.field}" already exists'), "", props.field)

    for update in body.update or []:
        try:
            with database.session() as session:
                outcome.updated.append(service.field_document(service.update(session, principal, space_id, update)))
        except VigilError as exc:
            outcome.fail(exc, update.id, None)

    if body.delete is not None:
        with database.session(readonly=True) as session:
            targets = service.delete_targets(session, space_id, body.delete.query, body.delete.ids)
        outcome.fail_missing(
            body.delete.ids, (field_id for field_id, _ in targets), lambda i: f'anonymization field id: "{i}" not found'
        )
        for field_id, field in targets:
            try:
                with database.session() as session:
                    service.delete_one(session, space_id, field_id)
                outcome.deleted.append(field_id)
            except VigilError as exc:  # deleted meanwhile by someone else
                outcome.fail(exc, field_id, field)

    return outcome.response()

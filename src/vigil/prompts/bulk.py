"""Kibana's prompts `_bulk_action`: each item in its own transaction, so one bad item fails
alone and is reported with its own status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from vigil.auth.principal import Principal
from vigil.bulk import BulkOutcome, check_operation_limit, require_delete_target
from vigil.db.engine import Database
from vigil.errors import Conflict, VigilError
from vigil.prompts import schemas, service


def perform(
    database: Database, principal: Principal, space_id: str, body: schemas.PerformPromptsBulkActionRequestBody
) -> dict[str, Any]:
    if body.delete is not None:
        require_delete_target(body.delete.query, body.delete.ids)
    check_operation_limit(
        body.create, body.update, body.delete.ids if body.delete else None, schemas.MAX_BULK_OPERATIONS
    )
    outcome = BulkOutcome("prompts")

    def raced(name: str) -> Conflict:
        return Conflict(f'prompt with name: "{name}" already exists')

    for props in body.create or []:
        try:
            with database.session() as session:
                outcome.created.append(service.prompt_document(service.create(session, principal, space_id, props)))
        except VigilError as exc:
            outcome.fail(exc, "", props.name)
        except IntegrityError:  # a concurrent create of the same name won the unique index
            outcome.fail(raced(props.name), "", props.name)

    for update in body.update or []:
        try:
            with database.session() as session:
                outcome.updated.append(service.prompt_document(service.update(session, principal, space_id, update)))
        except VigilError as exc:
            outcome.fail(exc, update.id, None)

    if body.delete is not None:
        with database.session(readonly=True) as session:
            targets = service.delete_targets(session, principal, space_id, body.delete.query, body.delete.ids)
        outcome.fail_missing(
            body.delete.ids, (prompt_id for prompt_id, _ in targets), lambda i: f'prompt id: "{i}" not found'
        )
        for prompt_id, name in targets:
            try:
                with database.session() as session:
                    service.delete_one(session, principal, space_id, prompt_id)
                outcome.deleted.append(prompt_id)
            except VigilError as exc:
                outcome.fail(exc, prompt_id, name)

    return outcome.response()

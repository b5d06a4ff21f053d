"""Kibana's knowledge base `_bulk_action`: each item in its own transaction (vigil.bulk), answered
in this API's camelCase shape (`statusCode`, `knowledgeBaseEntriesCount`, `knowledgeBaseEntries`)."""

from __future__ import annotations

from typing import Any

from vigil.auth.principal import Principal
from vigil.bulk import BulkOutcome, check_operation_limit, require_delete_target
from vigil.db.engine import Database
from vigil.errors import BadRequest, VigilError
from vigil.knowledge_base import schemas, service

ITEMS_KEY = "knowledgeBaseEntries"


def _camel_case(response: dict[str, Any]) -> dict[str, Any]:
    """vigil.bulk builds the prompts/conversations shape; this API spells some keys differently."""
    attributes = response["attributes"]
    for error in attributes.get("errors", []):
        error["statusCode"] = error.pop("status_code")
    return {
        "success": response["success"],
        "statusCode": response["status_code"],
        "message": response["message"],
        "knowledgeBaseEntriesCount": response[f"{ITEMS_KEY}_count"],
        "attributes": attributes,
    }


def perform(
    database: Database,
    principal: Principal,
    space_id: str,
    body: schemas.PerformKnowledgeBaseEntryBulkActionRequestBody,
    default_model: str,
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The response, and (action, id, name) of every change for the audit log."""
    if body.delete is not None:
        require_delete_target(body.delete.query, body.delete.ids)
    check_operation_limit(
        body.create, body.update, body.delete.ids if body.delete else None, schemas.MAX_BULK_OPERATIONS
    )
    outcome = BulkOutcome(ITEMS_KEY)
    changes: list[tuple[str, str, str]] = []

    for props in body.create or []:
        try:
            with database.session() as session:
                entry = service.create(session, principal, space_id, props, default_model)
                outcome.created.append(service.entry_document(entry))
            changes.append(("create", entry.id, entry.name))
        except VigilError as exc:
            outcome.fail(exc, "", props.name)

    for update in body.update or []:
        try:
            if not update.id:
                raise BadRequest("[request body]: update: every entry needs its `id`")
            with database.session() as session:
                entry = service.update(session, principal, space_id, update.id, update, default_model)
                outcome.updated.append(service.entry_document(entry))
            changes.append(("update", entry.id, entry.name))
        except VigilError as exc:
            outcome.fail(exc, update.id or "", update.name)

    if body.delete is not None:
        with database.session(readonly=True) as session:
            targets = service.delete_targets(session, principal, space_id, body.delete.query, body.delete.ids)
        outcome.fail_missing(
            body.delete.ids,
            (entry_id for entry_id, _ in targets),
            lambda i: f'Knowledge Base Entry id: "{i}" not found',
        )
        for entry_id, name in targets:
            try:
                with database.session() as session:
                    service.delete_one(session, principal, space_id, entry_id, default_model)
                outcome.deleted.append(entry_id)
                changes.append(("delete", entry_id, name))
            except VigilError as exc:
                outcome.fail(exc, entry_id, name)

    return _camel_case(outcome.response()), changes

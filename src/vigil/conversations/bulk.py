"""Kibana's `_bulk_action` on conversations (the shared rules: vigil/bulk.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vigil.auth.principal import Principal
from vigil.bulk import BulkOutcome, require_delete_target
from vigil.conversations import schemas, service
from vigil.db.engine import Database
from vigil.errors import VigilError

SharingCallback = Callable[[str, str, service.SharingChange], None]


def perform(
    database: Database,
    principal: Principal,
    space_id: str,
    body: schemas.BulkActionRequest,
    on_sharing_change: SharingCallback,
) -> dict[str, Any]:
    if body.delete is not None:
        require_delete_target(body.delete.query, body.delete.ids)
    outcome = BulkOutcome("conversations")

    for props in body.create or []:
        try:
            with database.session() as session:
                conversation = service.create(session, principal, space_id, props)
                outcome.created.append(service.full_document(session, conversation))
        except VigilError as exc:
            outcome.fail(exc, props.id or "", props.title)

    for update in body.update or []:
        try:
            with database.session() as session:
                conversation, sharing = service.update(session, principal, space_id, update.id, update)
                outcome.updated.append(service.full_document(session, conversation))
            if sharing is not None:
                on_sharing_change(conversation.id, conversation.title, sharing)
        except VigilError as exc:
            outcome.fail(exc, update.id, update.title)

    if body.delete is not None:
        with database.session(readonly=True) as session:
            targets = service.owned_matching(session, principal, space_id, body.delete.query, body.delete.ids)
        outcome.fail_missing(body.delete.ids, (t.id for t in targets), lambda i: f'conversation id: "{i}" not found')
        for target in targets:
            try:
                with database.session() as session:
                    service.delete_one(session, principal, space_id, target.id)
                outcome.deleted.append(target.id)
            except VigilError as exc:
                outcome.fail(exc, target.id, target.title)
    return outcome.response()

"""Connector rules and SQL: per-space stored connectors plus preconfigured ones from settings.

Secrets are validated, encrypted with the SecretBox and only ever decrypted for a run
(`get_runtime`); documents never contain them. A row whose secrets do not decrypt (the key
changed) is reported with `is_missing_secrets: true` and cannot run until it is updated.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.principal import Principal
from vigil.connectors import schemas
from vigil.connectors.models import Connector
from vigil.connectors.types import VIGIL_LOCAL, validate_connector
from vigil.crypto import DecryptionError, SecretBox
from vigil.db.base import utcnow
from vigil.errors import BadRequest, Conflict, NotFound
from vigil.settings import Settings

logger = logging.getLogger("vigil.connectors")

LOCAL_CONNECTOR_ID = "vigil-local"
LOCAL_CONNECTOR_NAME = "Vigil local model (SmolLM2-135M-Instruct)"


@dataclass(frozen=True)
class ConnectorRuntime:
    """Everything needed to call a connector. `secrets` is decrypted: never log or return it."""

    id: str
    name: str
    type_id: str
    config: dict[str, Any]
    secrets: dict[str, Any] = field(repr=False)
    is_preconfigured: bool


@dataclass(frozen=True)
class Preconfigured:
    id: str
    name: str
    type_id: str
    config: dict[str, Any]
    secrets: dict[str, Any] = field(repr=False)


def preconfigured_connectors(settings: Settings) -> dict[str, Preconfigured]:
    """The connectors from configuration, validated; `vigil-local` unless turned off.

    An entry with the id `vigil-local` in `preconfigured_connectors` replaces the built-in one."""
    result: dict[str, Preconfigured] = {}
    if settings.local_model_enabled:
        local = Preconfigured(LOCAL_CONNECTOR_ID, LOCAL_CONNECTOR_NAME, VIGIL_LOCAL, {}, {})
        result[LOCAL_CONNECTOR_ID] = local
    for connector_id, spec in settings.preconfigured_connectors.items():
        secrets = {key: value.get_secret_value() for key, value in spec.secrets.items()}
        _ensure_type_enabled(spec.connector_type_id, settings)
        config, secrets = validate_connector(spec.connector_type_id, spec.config, secrets)
        result[connector_id] = Preconfigured(connector_id, spec.name, spec.connector_type_id, config, secrets)
    return result


def check_preconfigured(settings: Settings) -> None:
    """Start-up check: a wrong preconfigured connector stops Vigil with a message naming it."""
    for connector_id, spec in settings.preconfigured_connectors.items():
        secrets = {key: value.get_secret_value() for key, value in spec.secrets.items()}
        try:
            _ensure_type_enabled(spec.connector_type_id, settings)
            validate_connector(spec.connector_type_id, spec.config, secrets)
        except BadRequest as exc:
            message = exc.message.replace("[request body]: ", "")
            raise ValueError(f"preconfigured connector [{connector_id}] is invalid: {message}") from None


def _ensure_type_enabled(type_id: str, settings: Settings) -> None:
    if type_id == VIGIL_LOCAL and not settings.local_model_enabled:
        raise BadRequest(f'action type "{type_id}" is not enabled in the Vigil config')


def _context(space_id: str, connector_id: str) -> str:
    return f"connector:{space_id}:{connector_id}"


def _secrets_readable(row: Connector, secret_box: SecretBox) -> bool:
    try:
        secret_box.decrypt(row.secrets, _context(row.namespace, row.id))
    except DecryptionError:
        return False
    return True


def connector_document(row: Connector, secret_box: SecretBox) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "connector_type_id": row.connector_type_id,
        "config": dict(row.config or {}),
        "is_preconfigured": False,
        "is_deprecated": False,
        "is_missing_secrets": not _secrets_readable(row, secret_box),
        "is_system": False,
    }


def preconfigured_document(connector: Preconfigured) -> dict[str, Any]:
    return {
        "id": connector.id,
        "name": connector.name,
        "connector_type_id": connector.type_id,
        "is_preconfigured": True,
        "is_deprecated": False,
        "is_missing_secrets": False,
        "is_system": False,
    }


def _not_found(connector_id: str) -> NotFound:
    return NotFound(f"Saved object [action/{connector_id}] not found")


def _row(session: Session, space_id: str, connector_id: str, *, for_update: bool = False) -> Connector | None:
    query = select(Connector).where(Connector.namespace == space_id, Connector.id == connector_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def list_connectors(
    session: Session, principal: Principal, space_id: str, secret_box: SecretBox, settings: Settings
) -> list[dict[str, Any]]:
    documents = [preconfigured_document(c) for c in preconfigured_connectors(settings).values()]
    rows = session.scalars(select(Connector).where(Connector.namespace == space_id)).all()
    documents.extend(connector_document(row, secret_box) for row in rows)
    documents.sort(key=lambda d: (d["name"].lower(), d["id"]))
    return [{**d, "referenced_by_count": 0} for d in documents]


def get_connector(
    session: Session,
    principal: Principal,
    space_id: str,
    connector_id: str,
    secret_box: SecretBox,
    settings: Settings,
) -> dict[str, Any]:
    preconfigured = preconfigured_connectors(settings).get(connector_id)
    if preconfigured is not None:
        return preconfigured_document(preconfigured)
    row = _row(session, space_id, connector_id)
    if row is None:
        raise _not_found(connector_id)
    return connector_document(row, secret_box)


def create_connector(
    session: Session,
    principal: Principal,
    space_id: str,
    body: schemas.ConnectorCreate,
    secret_box: SecretBox,
    settings: Settings,
    connector_id: str | None = None,
) -> dict[str, Any]:
    _ensure_type_enabled(body.connector_type_id, settings)
    config, secrets = validate_connector(body.connector_type_id, body.config, body.secrets)
    connector_id = connector_id or str(uuid.uuid4())
    if connector_id in preconfigured_connectors(settings):
        raise BadRequest(f"This {connector_id} already exists in a preconfigured action.")
    if _row(session, space_id, connector_id) is not None:
        raise Conflict(f"Saved object [action/{connector_id}] conflict")
    now = utcnow()
    row = Connector(
        namespace=space_id,
        id=connector_id,
        name=body.name,
        connector_type_id=body.connector_type_id,
        config=config,
        secrets=secret_box.encrypt(secrets, _context(space_id, connector_id)),
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return connector_document(row, secret_box)


def update_connector(
    session: Session,
    principal: Principal,
    space_id: str,
    connector_id: str,
    body: schemas.ConnectorUpdate,
    secret_box: SecretBox,
    settings: Settings,
) -> dict[str, Any]:
    if connector_id in preconfigured_connectors(settings):
        raise BadRequest(f"Preconfigured action {connector_id} is not allowed to update.")
    row = _row(session, space_id, connector_id, for_update=True)
    if row is None:
        raise _not_found(connector_id)
    config, secrets = validate_connector(row.connector_type_id, body.config, body.secrets)
    row.name = body.name
    row.config = config
    row.secrets = secret_box.encrypt(secrets, _context(space_id, connector_id))
    row.updated_at = utcnow()
    session.flush()
    return connector_document(row, secret_box)


def delete_connector(
    session: Session, principal: Principal, space_id: str, connector_id: str, settings: Settings
) -> None:
    if connector_id in preconfigured_connectors(settings):
        raise BadRequest(f"Preconfigured action {connector_id} is not allowed to delete.")
    row = _row(session, space_id, connector_id, for_update=True)
    if row is None:
        raise _not_found(connector_id)
    session.delete(row)
    session.flush()


def get_runtime(
    session: Session, space_id: str, connector_id: str, secret_box: SecretBox, settings: Settings
) -> ConnectorRuntime:
    """A connector ready to run, secrets decrypted. NotFound if the space has no such connector;
    BadRequest if its secrets cannot be decrypted (the encryption key changed)."""
    preconfigured = preconfigured_connectors(settings).get(connector_id)
    if preconfigured is not None:
        return ConnectorRuntime(
            id=preconfigured.id,
            name=preconfigured.name,
            type_id=preconfigured.type_id,
            config=dict(preconfigured.config),
            secrets=dict(preconfigured.secrets),
            is_preconfigured=True,
        )
    row = _row(session, space_id, connector_id)
    if row is None:
        raise _not_found(connector_id)
    try:
        secrets = secret_box.decrypt(row.secrets, _context(space_id, connector_id))
    except DecryptionError:
        logger.warning(
            "secrets of connector [%s] in space [%s] do not decrypt with the configured encryption key",
            connector_id,
            space_id,
        )
        raise BadRequest(
            f'Unable to execute action because the secrets of the "{row.name}" connector cannot be '
            "decrypted with the configured encryption key. Update the connector to enter them again."
        ) from None
    return ConnectorRuntime(
        id=row.id,
        name=row.name,
        type_id=row.connector_type_id,
        config=dict(row.config or {}),
        secrets=secrets,
        is_preconfigured=False,
    )

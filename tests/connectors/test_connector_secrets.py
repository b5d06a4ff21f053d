"""Secrets: encrypted at rest, never in a response, an audit event or a log line; a server with
another key degrades to `is_missing_secrets` instead of failing; preconfigured connectors."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.support.clients import kibana_client, unique_name
from tests.support.server import running_server
from vigil.connectors import service
from vigil.connectors.models import Connector
from vigil.db.engine import Database
from vigil.settings import PreconfiguredConnector, Settings

CONNECTOR = "/api/actions/connector"
CONNECTORS = "/api/actions/connectors"
PRECONFIGURED_SECRET = "sk-preconfigured-" + uuid.uuid4().hex


def _body(secret: str) -> dict:
    return {
        "name": unique_name("gpt"),
        "connector_type_id": ".gen-ai",
        "config": {"apiProvider": "OpenAI", "apiUrl": "https://api.openai.com/v1/chat/completions"},
        "secrets": {"apiKey": secret},
    }


def test_secrets_are_encrypted_and_never_leave(
    admin: httpx.Client, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "sk-" + uuid.uuid4().hex
    texts: list[str] = []
    created = admin.post(CONNECTOR, json=_body(secret))
    assert created.status_code == 200
    connector_id = created.json()["id"]
    texts.append(created.text)
    for response in (
        admin.get(f"{CONNECTOR}/{connector_id}"),
        admin.get(CONNECTORS),
        admin.post(f"{CONNECTOR}/{connector_id}/_execute", json={"params": {"subAction": "run"}}),
        admin.put(f"{CONNECTOR}/{connector_id}", json={**_body(secret), "config": {"apiProvider": "x"}}),
        admin.put(f"{CONNECTOR}/{connector_id}", json=_body(secret)),
        admin.post(f"{CONNECTOR}/{connector_id}", json=_body(secret)),
        admin.post(CONNECTOR, json={**_body(secret), "secrets": {"apiKey": secret, "other": secret}}),
    ):
        assert response.status_code < 500
        texts.append(response.text)
    assert all('"secrets":' not in text and secret not in text for text in texts)
    assert "secrets.other: Extra inputs are not permitted" in texts[-1]

    database = Database(settings)
    try:
        with database.session(readonly=True) as session:
            row = session.scalars(select(Connector).where(Connector.id == connector_id)).one()
            assert secret not in row.secrets
            assert secret not in str(row.config)
    finally:
        database.dispose()

    assert secret not in settings.resolved_audit_log.read_text()
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert secret not in caplog.text


@pytest.fixture(scope="module")
def other_key_server(settings: Settings) -> Iterator[str]:
    """A second server on the same store with another key, a preconfigured connector, and no
    local model."""
    other = settings.model_copy(
        update={
            "encryption_key": SecretStr("another-encryption-key-" + "z" * 20),
            "local_model_enabled": False,
            "auto_migrate": False,  # the first server migrated the shared store
            "preconfigured_connectors": {
                "my-gpt": PreconfiguredConnector(
                    name="Team GPT",
                    connector_type_id=".gen-ai",
                    config={"apiProvider": "OpenAI", "apiUrl": "https://api.openai.com/v1"},
                    secrets={"apiKey": SecretStr(PRECONFIGURED_SECRET)},
                )
            },
        }
    )
    with running_server(other) as url:
        yield url


def test_a_wrong_key_marks_secrets_missing(admin: httpx.Client, other_key_server: str) -> None:
    created = admin.post(CONNECTOR, json=_body("sk-first-key"))
    connector_id = created.json()["id"]
    with kibana_client(other_key_server, auth=(ADMIN_USER, ADMIN_PASSWORD)) as other:
        got = other.get(f"{CONNECTOR}/{connector_id}")
        assert got.status_code == 200
        assert got.json()["is_missing_secrets"] is True
        listed = {c["id"]: c for c in other.get(CONNECTORS).json()}
        assert listed[connector_id]["is_missing_secrets"] is True
        run = other.post(f"{CONNECTOR}/{connector_id}/_execute", json={"params": {"subAction": "run"}})
        assert run.status_code == 400
        assert "cannot be decrypted with the configured encryption key" in run.json()["message"]
        # Entering the secrets again under the new key repairs it (for that key).
        fixed = other.put(f"{CONNECTOR}/{connector_id}", json=_body("sk-second-key"))
        assert fixed.status_code == 200
        assert fixed.json()["is_missing_secrets"] is False
    assert admin.get(f"{CONNECTOR}/{connector_id}").json()["is_missing_secrets"] is True


def test_preconfigured_connectors_from_settings(other_key_server: str) -> None:
    with kibana_client(other_key_server, auth=(ADMIN_USER, ADMIN_PASSWORD)) as other:
        listed = other.get(CONNECTORS)
        ids = {c["id"] for c in listed.json()}
        assert "my-gpt" in ids
        assert "vigil-local" not in ids
        got = other.get(f"{CONNECTOR}/my-gpt")
        assert got.json() == {
            "id": "my-gpt",
            "name": "Team GPT",
            "connector_type_id": ".gen-ai",
            "is_preconfigured": True,
            "is_deprecated": False,
            "is_missing_secrets": False,
            "is_system": False,
        }
        assert other.get(f"{CONNECTOR}/vigil-local").status_code == 404
        local = other.post(CONNECTOR, json={"name": "l", "connector_type_id": ".vigil-local"})
        assert local.status_code == 400
        types = {t["id"]: t for t in other.get("/api/actions/connector_types").json()}
        assert types[".vigil-local"]["enabled"] is False
        assert other.put(f"{CONNECTOR}/my-gpt", json={"name": "x"}).json()["message"] == (
            "Preconfigured action my-gpt is not allowed to update."
        )
        run = other.post(f"{CONNECTOR}/my-gpt/_execute", json={"params": {"subAction": "invokeAI"}})
        assert run.json()["status"] == "error"
        for response in (listed, got, run):
            assert PRECONFIGURED_SECRET not in response.text


def test_get_runtime_for_other_modules(admin: httpx.Client, settings: Settings) -> None:
    from vigil.crypto import SecretBox, load_secret_box

    secret = "sk-" + uuid.uuid4().hex
    space = unique_name("rt").replace("_", "-")
    created = admin.post(f"/s/{space}{CONNECTOR}", json=_body(secret)).json()
    database = Database(settings)
    try:
        with database.session(readonly=True) as session:
            runtime = service.get_runtime(session, space, created["id"], load_secret_box(settings), settings)
            assert runtime.secrets == {"apiKey": secret}
            assert runtime.type_id == ".gen-ai"
            assert runtime.is_preconfigured is False
            assert secret not in repr(runtime)
            local = service.get_runtime(session, space, "vigil-local", SecretBox("q" * 32), settings)
            assert (local.type_id, local.is_preconfigured, local.secrets) == (".vigil-local", True, {})
            with pytest.raises(service.NotFound):
                service.get_runtime(session, "default", created["id"], load_secret_box(settings), settings)
    finally:
        database.dispose()


def test_invalid_preconfigured_connector_stops_start_up(tmp_path) -> None:
    bad = Settings(
        data_dir=tmp_path,
        preconfigured_connectors={
            "broken": PreconfiguredConnector(name="b", connector_type_id=".bedrock", config={"apiUrl": "https://x"})
        },
    )
    with pytest.raises(ValueError, match=r"preconfigured connector \[broken\] is invalid: secrets.accessKey"):
        service.check_preconfigured(bad)
    unknown = Settings(
        data_dir=tmp_path,
        preconfigured_connectors={"u": PreconfiguredConnector(name="u", connector_type_id=".slack")},
    )
    with pytest.raises(ValueError, match="not registered"):
        service.check_preconfigured(unknown)

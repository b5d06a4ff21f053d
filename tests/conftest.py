"""Test fixtures: one real Vigil server per session on a real database.

The database is SQLite in a temporary directory unless VIGIL_TEST_DATABASE_URL names another
(`scripts/test.sh` points it at a throwaway PostgreSQL database for the second pass).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.clients import TestUser, fake_llm_connector, kibana_client, unique_name
from tests.support.server import running_server
from vigil.settings import Settings
from vigil.testing.fake_openai import FakeOpenAI

ADMIN_USER = "elastic"
ADMIN_PASSWORD = "test-admin-password"
# PostgreSQL deployments must configure a key (several servers share it); tests use this one.
ENCRYPTION_KEY = "vigil-test-encryption-key-0123456789abcdef"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vigil-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("VIGIL_TEST_DATABASE_URL") or None,
        admin_username=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        sqlite_synchronous="NORMAL",
        encryption_key=ENCRYPTION_KEY,
        # Provider-fault tests wait for timeouts and retries: keep them short.
        llm_request_timeout_seconds=2,
        llm_max_retries=1,
        # The built-in embedded connector, kept to short answers so the end-to-end test is quick.
        preconfigured_connectors={
            "vigil-local": {
                "name": "Vigil local model (SmolLM2-135M-Instruct)",
                "connector_type_id": ".vigil-local",
                "config": {"maxTokens": 24},
            }
        },
    )


@pytest.fixture(scope="session")
def base_url(settings: Settings) -> Iterator[str]:
    with running_server(settings) as url:
        yield url


@pytest.fixture(scope="session")
def admin(base_url: str) -> Iterator[httpx.Client]:
    with kibana_client(base_url, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture
def make_user(base_url: str, admin: httpx.Client) -> Iterator[Callable[..., TestUser]]:
    """Creates a fresh user with the given roles; each test gets users nobody else touches."""
    created: list[TestUser] = []

    def factory(*roles: str, username: str | None = None) -> TestUser:
        name = username or unique_name("user")
        password = "pw-" + name
        response = admin.put(f"/_security/user/{name}", json={"password": password, "roles": list(roles or ["editor"])})
        assert response.status_code == 200, response.text
        user = TestUser(name, password, list(roles), kibana_client(base_url, auth=(name, password)))
        created.append(user)
        return user

    yield factory
    for user in created:
        user.client.close()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    """A scripted OpenAI-compatible provider per test (so a background title request of one test
    never takes a reply scripted by the next)."""
    with FakeOpenAI(default_text="Default fake answer") as server:
        yield server


@pytest.fixture
def connector_id(admin: httpx.Client, fake: FakeOpenAI) -> str:
    """A `.gen-ai` connector in the default space pointing at `fake`."""
    return fake_llm_connector(admin, fake.base_url)

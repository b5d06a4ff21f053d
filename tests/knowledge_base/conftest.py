"""Knowledge base tests run in spaces of their own, so what other tests (and the API fuzzer) do to
the default space's knowledge base never changes their results."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.clients import unique_name
from tests.support.database import migrated_database
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.knowledge_base import schemas, service

KB = "/api/security_ai_assistant/knowledge_base"
ENTRIES = f"{KB}/entries"


@pytest.fixture
def space() -> str:
    return unique_name("kb").replace("_", "-")


def in_space(space: str, path: str) -> str:
    return f"/s/{space}{path}"


def document(name: str, text: str, **extra: object) -> dict[str, object]:
    return {"type": "document", "name": name, "kbResource": "user", "source": "test", "text": text, **extra}


# --- tests that call the knowledge base's services directly ---------------------------------

MODEL = "test-default"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated store per test module (the suite's PostgreSQL database on the second pass)."""
    with migrated_database(tmp_path_factory.mktemp("kb")) as db:
        yield db


def principal(name: str) -> Principal:
    return Principal(user_id=f"id-{name}-{uuid.uuid4().hex[:6]}", username=name, roles=("superuser",))


def add_document(database: Database, who: Principal, space: str, name: str, text: str, shared: bool = False) -> str:
    """Stores a user document entry (global when shared) and returns its id."""
    props = schemas.DocumentEntryCreateFields(
        type="document", name=name, kbResource="user", source="t", text=text, **({"global": True} if shared else {})
    )
    with database.session() as session:
        return service.create(session, who, space, props, MODEL).id

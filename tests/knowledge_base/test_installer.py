"""Built-in collections are loaded once per version and replaced when their content changes,
full-text index included; a collection no longer available is removed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.support.database import migrated_database
from vigil.db.engine import Database
from vigil.knowledge_base import lexical
from vigil.knowledge_base.builtin import BuiltinEntry, Collection, content_version
from vigil.knowledge_base.installer import install_builtin, remove_missing_collections
from vigil.knowledge_base.models import (
    BUILTIN_NAMESPACE,
    KnowledgeBaseChunk,
    KnowledgeBaseCollection,
    KnowledgeBaseEntry,
)


@pytest.fixture
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with migrated_database(tmp_path_factory.mktemp("install")) as db:
        yield db


def collection(name: str, entries: list[BuiltinEntry]) -> Collection:
    texts = [part for e in entries for part in (e.id, e.name, e.text)]
    return Collection(
        name=name,
        title=name,
        kb_resource="security_labs",
        version=content_version(*texts),
        source="test",
        build=lambda: entries,
    )


def titles(database: Database, query: str) -> list[str]:
    with database.session(readonly=True) as session:
        hits = lexical.search(session, query, namespaces=[BUILTIN_NAMESPACE], owners=[""], limit=10)
        ids = [hit.chunk_id for hit in hits]
        return sorted(session.scalars(select(KnowledgeBaseChunk.title).where(KnowledgeBaseChunk.id.in_(ids))))


def test_collections_are_replaced_only_when_their_version_changes(database: Database) -> None:
    name = f"test-{uuid.uuid4().hex[:6]}"
    first = collection(
        name,
        [
            BuiltinEntry(f"{name}-a", "Zebra handbook", "zebras graze in the savanna", "handbook p1"),
            BuiltinEntry(f"{name}-b", "Okapi notes", "okapis hide in the rainforest", "handbook p2"),
        ],
    )
    assert install_builtin(database, [first], "vigil-minilm") == [name]
    assert install_builtin(database, [first], "vigil-minilm") == []  # same version: nothing to do
    assert titles(database, "savanna") == ["Zebra handbook"]

    second = collection(
        name,
        [BuiltinEntry(f"{name}-a", "Zebra handbook", "zebras migrate across the serengeti", "handbook p1, 2nd ed.")],
    )
    assert install_builtin(database, [second], "vigil-minilm") == [name]
    assert titles(database, "savanna") == []  # the old text is no longer indexed
    assert titles(database, "serengeti migrate") == ["Zebra handbook"]
    assert titles(database, "okapis rainforest") == []
    with database.session(readonly=True) as session:
        stored = session.get(KnowledgeBaseCollection, name)
        assert stored is not None and stored.entry_count == 1 and stored.version == second.version
        entry = session.get(KnowledgeBaseEntry, (BUILTIN_NAMESPACE, f"{name}-a"))
        assert entry is not None and entry.source == "handbook p1, 2nd ed." and entry.collection == name

    # No longer available: removed (the other collections, on a shared test database, are kept).
    with database.session() as session:
        others = [n for n in session.scalars(select(KnowledgeBaseCollection.name)) if n != name]
        assert remove_missing_collections(session, others, "vigil-minilm") == [name]
    assert titles(database, "serengeti") == []
    with database.session(readonly=True) as session:
        assert session.get(KnowledgeBaseCollection, name) is None

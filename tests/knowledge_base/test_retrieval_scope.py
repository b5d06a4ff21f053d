"""Full-text search ranks before it filters by namespace and owner when it can: it must answer the
same passages as ranking only the caller's, however many better matches belong to others; and the
vectors of repeated questions are reused, per model."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
import pytest

from tests.knowledge_base.conftest import add_document as add
from tests.knowledge_base.conftest import principal
from vigil.db.engine import Database
from vigil.knowledge_base import lexical, service
from vigil.knowledge_base.models import KnowledgeBaseChunk
from vigil.knowledge_base.runtime import QueryVectorCache


def names(database: Database, query: str, space: str, owners: Sequence[str], limit: int) -> list[str]:
    with database.session(readonly=True) as session:
        hits = lexical.search(session, query, namespaces=[space], owners=owners, limit=limit)
        titles = {
            chunk.id: chunk.title
            for chunk in session.query(KnowledgeBaseChunk).filter(KnowledgeBaseChunk.id.in_([h.chunk_id for h in hits]))
        }
    return [titles[hit.chunk_id] for hit in hits]


def test_others_better_matches_never_hide_the_callers(database: Database) -> None:
    space = f"scope-{uuid.uuid4().hex[:8]}"
    alice, bob = principal("alice"), principal("bob")
    # Bob's private notes match best (the word in their name and text); Alice's shared ones less.
    for number in range(12):
        add(database, bob, space, f"kerberoasting note {number}", "kerberoasting kerberoasting tickets")
    for number in range(3):
        add(database, alice, space, f"runbook {number}", f"step {number}: look for kerberoasting", shared=True)
    add(database, alice, space, "unrelated", "nothing to see")

    # Far more of Bob's passages rank above Alice's than a prefetch of 4 x limit holds.
    assert sorted(names(database, "kerberoasting", space, service.owners_for(alice), 2)) in (
        ["runbook 0", "runbook 1"],
        ["runbook 0", "runbook 2"],
        ["runbook 1", "runbook 2"],
    )
    everything = names(database, "kerberoasting", space, service.owners_for(alice), 50)
    assert sorted(everything) == ["runbook 0", "runbook 1", "runbook 2"]
    # Bob sees his notes first; whatever the limit, the answer is a prefix of the full ranking.
    full = names(database, "kerberoasting", space, service.owners_for(bob), 50)
    assert len(full) == 15 and all(name.startswith("kerberoasting note") for name in full[:12])
    for limit in range(1, 16):
        assert names(database, "kerberoasting", space, service.owners_for(bob), limit) == full[:limit]


class CountingModel:
    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return np.full((len(texts), 4), float(len(self.texts)), dtype=np.float32)


def test_a_repeated_question_is_embedded_once_per_model() -> None:
    cache = QueryVectorCache(capacity=2)
    first, second = CountingModel("a"), CountingModel("b")
    vector = cache.embed(first, "who uses mimikatz?")
    assert cache.embed(first, "who uses mimikatz?").tolist() == vector.tolist()
    assert first.texts == ["who uses mimikatz?"]
    cache.embed(second, "who uses mimikatz?")
    assert second.texts == ["who uses mimikatz?"]
    cache.embed(first, "another question")
    cache.embed(first, "who uses mimikatz?")  # evicted by the two since
    assert first.texts == ["who uses mimikatz?", "another question", "who uses mimikatz?"]
    with pytest.raises(ValueError):
        vector[0] = 1.0  # shared between searches: read-only
    cache.clear()
    cache.embed(second, "who uses mimikatz?")
    assert len(second.texts) == 2

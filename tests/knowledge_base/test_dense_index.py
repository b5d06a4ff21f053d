"""The in-memory dense index follows the database: new chunks, chunks whose vector arrives later,
deleted entries, and who may see what, on the suite's real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

import numpy as np
import pytest

from tests.knowledge_base.conftest import MODEL, principal
from tests.knowledge_base.conftest import add_document as add
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.knowledge_base import indexing, service
from vigil.knowledge_base.dense import DenseIndex, best_rows, split_planes
from vigil.knowledge_base.embeddings import normalise
from vigil.knowledge_base.models import KnowledgeBaseChunk


class HashingEmbeddings:
    """A deterministic stand-in for a provider: bag of words hashed into 64 dimensions."""

    fingerprint = "test:hashing-64"

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        vectors = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64] += 1.0
        return normalise(vectors + 1e-6)


def search(database: Database, index: DenseIndex, model: HashingEmbeddings, who: Principal, query: str) -> list[str]:
    with database.session(readonly=True) as session:
        index.refresh(session)
    hits = index.search(model.embed([query])[0], service.owners_for(who), 10)
    ids = [h.chunk_id for h in hits]
    with database.session(readonly=True) as session:
        chunks = session.query(KnowledgeBaseChunk).filter(KnowledgeBaseChunk.id.in_(ids))
        names = {chunk.id: chunk.title for chunk in chunks}
    return [names[h.chunk_id] for h in hits]


def test_refresh_adds_waits_for_vectors_and_forgets_deleted(database: Database) -> None:
    space = f"dense-{uuid.uuid4().hex[:8]}"
    alice, bob = principal("alice"), principal("bob")
    model = HashingEmbeddings()
    index = DenseIndex([space], model.fingerprint)

    add(database, alice, space, "nyc", "srv-win-s1-rsa is in the new york data center")
    add(database, bob, space, "bob-note", "bob likes the new york office")
    add(database, alice, space, "policy", "escalate ransomware within fifteen minutes", shared=True)
    # No vectors yet: nothing to search, three chunks waiting.
    assert search(database, index, model, alice, "new york") == []
    assert index.pending == 3

    indexing.embed_missing(database, model, [space], MODEL)
    assert search(database, index, model, alice, "data center new york")[0] == "nyc"
    assert index.pending == 0
    # Bob sees his own and the shared entry, never Alice's private one.
    assert set(search(database, index, model, bob, "new york")) == {"bob-note", "policy"}

    later = add(database, alice, space, "later", "the backup server is in frankfurt")
    indexing.embed_missing(database, model, [space], MODEL)
    assert search(database, index, model, alice, "frankfurt backup server")[0] == "later"

    with database.session() as session:
        service.delete_one(session, alice, space, later, MODEL)
    assert "later" not in search(database, index, model, alice, "frankfurt backup server")
    assert index.size == 3


def test_search_ranks_as_brute_force_cosine(database: Database) -> None:
    space = f"dense-{uuid.uuid4().hex[:8]}"
    who = principal("carol")
    model = HashingEmbeddings()
    rng = np.random.default_rng(7)
    vocabulary = [f"w{i}" for i in range(40)]
    texts = {f"doc{i}": " ".join(rng.choice(vocabulary, size=12)) for i in range(60)}
    for name, text in texts.items():
        add(database, who, space, name, text)
    indexing.embed_missing(database, model, [space], MODEL)
    index = DenseIndex([space], model.fingerprint)
    query = "w1 w2 w3 w5 w8"
    got = search(database, index, model, who, query)
    passages = {name: f"{name}\n{text}" for name, text in texts.items()}  # chunk text = title + body
    q = model.embed([query])[0]
    scores = {name: float(model.embed([p])[0] @ q) for name, p in passages.items()}
    expected = sorted(scores, key=lambda n: -scores[n])[:10]
    assert [scores[n] for n in got] == pytest.approx([scores[n] for n in expected], abs=1e-5)


def test_a_text_is_embedded_once_whatever_entry_holds_it(database: Database) -> None:
    space = f"dense-{uuid.uuid4().hex[:8]}"
    who = principal("dan")
    model = HashingEmbeddings()
    add(database, who, space, "same", "identical text")
    add(database, who, space, "same", "identical text")
    assert indexing.embed_missing(database, model, [space], MODEL) == 1
    assert indexing.embed_missing(database, model, [space], MODEL) == 0
    with database.session(readonly=True) as session:
        assert indexing.count_missing(session, model.fingerprint, [space]) == 0
        assert indexing.count_missing(session, "another:model", [space]) == 1


class NearTies:
    """Vectors that differ below bfloat16 precision: passage `doc-i` gets (0.6 + i * 1e-6, 0.8, 0...),
    so truncated to their high 16 bits all score alike, and in float32 later passages score higher."""

    fingerprint = "test:near-ties-8"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 8), dtype=np.float32)
        for row, text in enumerate(texts):
            number = int(text.split()[0].split("-")[1])
            vectors[row, 0] = 0.6 + number * 1e-6
            vectors[row, 1] = 0.8
        return vectors


def test_search_is_exact_below_the_precision_of_the_scan(database: Database) -> None:
    space = f"dense-{uuid.uuid4().hex[:8]}"
    erin, frank = principal("erin"), principal("frank")
    model = NearTies()
    for number in range(30):
        # Every third passage is Frank's private one; the others belong to the whole space.
        owner, shared = (frank, False) if number % 3 == 0 else (erin, True)
        add(database, owner, space, f"doc-{number}", "text", shared=shared)
    indexing.embed_missing(database, model, [space], MODEL)
    index = DenseIndex([space], model.fingerprint)
    with database.session(readonly=True) as session:
        index.refresh(session)
        titles = {chunk.id: chunk.title for chunk in session.query(KnowledgeBaseChunk).filter_by(namespace=space)}
    query = np.zeros(8, dtype=np.float32)
    query[:2] = (0.6, 0.8)
    for who, visible in ((erin, [n for n in range(30) if n % 3]), (frank, list(range(30)))):
        hits = index.search(query, service.owners_for(who), 10)
        # Brute force in float32: the latest passages first.
        expected = sorted(visible, key=lambda n: -float(model.embed([f"doc-{n}"])[0] @ query))[:10]
        assert [titles[hit.chunk_id] for hit in hits] == [f"doc-{n}" for n in expected]
        assert expected[0] == 29 if who is frank else 28
        assert hits[0].score == pytest.approx(float(model.embed([f"doc-{expected[0]}"])[0] @ query), abs=1e-7)


@pytest.mark.backend_independent
@pytest.mark.parametrize("seed", range(5))
def test_best_rows_are_the_float32_top_k(seed: int) -> None:
    """The scan reads vectors truncated to bfloat16; the answer must still be float32 brute force.
    Clusters of near-duplicates (differences around the truncation error) make the truncated
    ranking differ from the exact one."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, 96)).astype(np.float32)
    matrix = np.repeat(centres, 100, axis=0) + rng.standard_normal((2000, 96)).astype(np.float32) * 1e-2
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    high, low = split_planes(matrix)
    norms = np.linalg.norm(matrix, axis=1).astype(np.float32)
    mask = rng.random(2000) < 0.7
    missed = 0
    for _ in range(20):
        query = centres[rng.integers(20)] + rng.standard_normal(96).astype(np.float32) * 5e-2
        query /= np.linalg.norm(query)
        rows, scores = best_rows(high, low, norms, mask, query, 50)
        exact = np.where(mask, matrix @ query, -np.inf)
        expected = np.sort(exact)[::-1][:50]
        # Float32 sums over other row subsets may differ in the last bit, so near-ties (1e-7) may
        # swap; any row past the top 50 by more than that would be a wrong answer.
        assert len(set(rows.tolist())) == 50
        assert exact[rows].min() >= expected[-1] - 1e-6
        assert scores.tolist() == pytest.approx(expected.tolist(), abs=1e-6)
        assert scores.tolist() == pytest.approx(exact[rows].tolist(), abs=1e-6)
        # The truncated scan alone would answer rows clearly outside the top 50.
        truncated = np.where(mask, (high.astype(np.uint32) << 16).view(np.float32) @ query, -np.inf)
        missed += int(exact[np.argsort(-truncated)[:50]].min() < expected[-1] - 1e-5)
    assert missed > 0

"""Hybrid retrieval: full-text and dense candidates fused by rank, one passage per entry.

Both retrievers see only what the caller may read (their own and the space's entries, and the
built-in content unless the space turned it off). Dense retrieval needs the space's embedding
model; when it is unavailable (not installed, provider down) retrieval falls back to full-text
alone and says so in the result.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from vigil.knowledge_base import lexical
from vigil.knowledge_base.dense import DenseHit
from vigil.knowledge_base.fusion import reciprocal_rank_fusion
from vigil.knowledge_base.models import KnowledgeBaseChunk, KnowledgeBaseEntry

logger = logging.getLogger("vigil.knowledge_base")

Mode = Literal["hybrid", "lexical", "dense"]
# Candidates each retriever contributes before fusion.
CANDIDATES = 50


@dataclass(frozen=True)
class Passage:
    entry_id: str
    namespace: str
    name: str
    text: str  # the matching chunk
    source: str
    url: str | None
    collection: str | None
    score: float


@dataclass
class Retrieval:
    passages: list[Passage] = field(default_factory=list)
    dense_used: bool = False
    note: str | None = None  # why dense retrieval was skipped, for logs and tool results


def collapse(session: Session, ranked_chunks: Sequence[tuple[int, float]], limit: int) -> list[Passage]:
    """The best chunk of each entry, in fused order, up to `limit` entries: one query for the
    ranked chunks with their entries' fields (columns, not ORM objects)."""
    chunk, entry = KnowledgeBaseChunk, KnowledgeBaseEntry
    ids = [chunk_id for chunk_id, _ in ranked_chunks]
    if not ids:
        return []
    statement = (
        select(chunk.id, chunk.namespace, chunk.text, entry.id, entry.name, entry.source, entry.url, entry.collection)
        .join(entry, and_(entry.namespace == chunk.namespace, entry.id == chunk.entry_id))
        .where(chunk.id.in_(ids))
    )
    rows = {row[0]: row for row in session.execute(statement)}
    passages: list[Passage] = []
    seen: set[tuple[str, str]] = set()
    for chunk_id, score in ranked_chunks:
        row = rows.get(chunk_id)
        if row is None:
            continue  # deleted since it was ranked
        _, namespace, passage, entry_id, name, source, url, collection = row
        if (namespace, entry_id) in seen:
            continue
        seen.add((namespace, entry_id))
        passages.append(
            Passage(
                entry_id=entry_id,
                namespace=namespace,
                name=name,
                text=passage,
                source=source or "",
                url=url,
                collection=collection,
                score=score,
            )
        )
        if len(passages) == limit:
            break
    return passages


def retrieve(
    session: Session,
    query: str,
    *,
    namespaces: Sequence[str],
    owners: Sequence[str],
    limit: int,
    mode: Mode = "hybrid",
    dense: Future[list[DenseHit]] | None = None,
    dense_note: str | None = None,
) -> Retrieval:
    """`dense` is the dense search already under way (None when the space's model is unusable), so
    the full-text search runs meanwhile."""
    result = Retrieval(note=dense_note)
    lexical_hits: list[lexical.LexicalHit] = []
    if mode != "dense":
        lexical_hits = lexical.search(session, query, namespaces=namespaces, owners=owners, limit=CANDIDATES)
    dense_hits: list[DenseHit] = []
    if mode != "lexical" and dense is not None:
        dense_hits = dense.result()
        result.dense_used = True
    if mode == "lexical":
        ranked = [(hit.chunk_id, hit.score) for hit in lexical_hits]
    elif mode == "dense":
        ranked = [(hit.chunk_id, hit.score) for hit in dense_hits]
    else:
        ranked = reciprocal_rank_fusion([[h.chunk_id for h in lexical_hits], [h.chunk_id for h in dense_hits]])
    result.passages = collapse(session, ranked, limit)
    return result

"""From entries to searchable chunks, and from chunks to stored embeddings.

Chunks are written in the entry's transaction (so full-text search sees them at once); vectors
are computed afterwards, outside any transaction, because a model call may take a while. A text
is embedded once per model whatever entry or space it belongs to: vectors are keyed by the
SHA-256 of the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, distinct, func, insert, literal_column, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.db.engine import Database
from vigil.knowledge_base.chunking import chunk_text
from vigil.knowledge_base.embeddings import EmbeddingModel
from vigil.knowledge_base.models import KnowledgeBaseChunk, KnowledgeBaseEntry, KnowledgeBaseVector
from vigil.knowledge_base.spaces import bump_revisions

EMBED_BATCH = 32  # per transaction; also how long shutdown may wait for the indexer

Progress = Callable[[int], None]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_passages(entry: KnowledgeBaseEntry) -> list[str]:
    """What of an entry is retrieved: a document entry's text. Index entries describe a data index
    for the search tools of the data plane; they have no passages of their own."""
    if entry.entry_type != "document" or not entry.text:
        return []
    return chunk_text(entry.name, entry.text)


def chunk_rows(entry: KnowledgeBaseEntry, passages: Sequence[str] | None = None) -> list[dict[str, object]]:
    return [
        {
            "namespace": entry.namespace,
            "entry_id": entry.id,
            "position": position,
            "owner_id": entry.owner_id,
            "title": entry.name,
            "text": passage,
            "text_hash": text_hash(passage),
        }
        for position, passage in enumerate(entry_passages(entry) if passages is None else passages)
    ]


def _weighted_tsvector() -> Any:
    # Title words rank as PostgreSQL's weight A, text words as B (ts_rank_cd: 1.0 and 0.4).
    chunk = KnowledgeBaseChunk
    return func.setweight(func.to_tsvector("english", chunk.title), literal_column("'A'")).op("||")(
        func.setweight(func.to_tsvector("english", chunk.text), literal_column("'B'"))
    )


def insert_chunks(session: Session, rows: Sequence[dict[str, object]]) -> None:
    """Bulk insert; on PostgreSQL the tsvectors are then computed in one UPDATE (SQLite's FTS5
    index is fed by triggers)."""
    if not rows:
        return
    session.execute(insert(KnowledgeBaseChunk), list(rows))
    if session.get_bind().dialect.name == "postgresql":
        keys = sorted({(str(row["namespace"]), str(row["entry_id"])) for row in rows})
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            session.execute(
                update(KnowledgeBaseChunk)
                .where(
                    tuple_(KnowledgeBaseChunk.namespace, KnowledgeBaseChunk.entry_id).in_(part),
                    KnowledgeBaseChunk.search_vector.is_(None),
                )
                .values(search_vector=_weighted_tsvector())
            )


def replace_chunks(session: Session, entries: Sequence[KnowledgeBaseEntry]) -> int:
    """Deletes the entries' chunks and writes them anew (chunk rows are never updated in place).
    Returns the number of chunks written."""
    for entry in entries:
        session.execute(
            delete(KnowledgeBaseChunk).where(
                KnowledgeBaseChunk.namespace == entry.namespace, KnowledgeBaseChunk.entry_id == entry.id
            )
        )
    rows = [row for entry in entries for row in chunk_rows(entry)]
    insert_chunks(session, rows)
    return len(rows)


def missing_texts(session: Session, fingerprint: str, namespaces: Sequence[str], limit: int) -> list[tuple[str, str]]:
    """(hash, text) of chunk texts of these namespaces that have no vector by this model yet."""
    chunk = KnowledgeBaseChunk
    rows = session.execute(
        select(chunk.text_hash, chunk.text)
        .outerjoin(
            KnowledgeBaseVector,
            and_(KnowledgeBaseVector.model_id == fingerprint, KnowledgeBaseVector.text_hash == chunk.text_hash),
        )
        .where(chunk.namespace.in_(list(namespaces)), KnowledgeBaseVector.text_hash.is_(None))
        .order_by(chunk.id)
        .limit(limit * 4)
    ).all()
    unique: dict[str, str] = {}
    for digest, passage in rows:
        unique.setdefault(digest, passage)
        if len(unique) == limit:
            break
    return list(unique.items())


def count_missing(session: Session, fingerprint: str, namespaces: Sequence[str]) -> int:
    chunk = KnowledgeBaseChunk
    return int(
        session.scalar(
            select(func.count(distinct(chunk.text_hash)))
            .outerjoin(
                KnowledgeBaseVector,
                and_(KnowledgeBaseVector.model_id == fingerprint, KnowledgeBaseVector.text_hash == chunk.text_hash),
            )
            .where(chunk.namespace.in_(list(namespaces)), KnowledgeBaseVector.text_hash.is_(None))
        )
        or 0
    )


def store_vectors(
    session: Session, fingerprint: str, hashes: Sequence[str], vectors: np.ndarray, default_model: str
) -> None:
    """Inserts vectors (a concurrent writer of the same text wins; both computed the same thing)
    and bumps the revision of every space holding those texts, so dense indexes pick them up."""
    if not len(hashes):
        return
    matrix = np.ascontiguousarray(vectors, dtype="<f4")
    rows = [
        {"model_id": fingerprint, "text_hash": digest, "dimensions": matrix.shape[1], "vector": matrix[i].tobytes()}
        for i, digest in enumerate(hashes)
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(KnowledgeBaseVector).on_conflict_do_nothing(), rows)
    namespaces = session.scalars(
        select(KnowledgeBaseChunk.namespace).where(KnowledgeBaseChunk.text_hash.in_(list(hashes))).distinct()
    ).all()
    bump_revisions(session, namespaces, default_model)


def embed_missing(
    database: Database,
    model: EmbeddingModel,
    namespaces: Sequence[str],
    default_model: str,
    *,
    batch: int = EMBED_BATCH,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Embeds every chunk text of `namespaces` that the model has not embedded, in batches, each
    stored in its own short transaction. Returns how many texts were embedded."""
    done = 0
    while not should_stop():
        with database.session(readonly=True) as session:
            todo = missing_texts(session, model.fingerprint, namespaces, batch)
        if not todo:
            break
        vectors = model.embed([passage for _, passage in todo])
        with database.session() as session:
            store_vectors(session, model.fingerprint, [digest for digest, _ in todo], vectors, default_model)
        done += len(todo)
        if progress is not None:
            progress(len(todo))
    return done

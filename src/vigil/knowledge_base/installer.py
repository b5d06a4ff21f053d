"""Loading the built-in collections into the store, once per version.

Each collection is replaced in its own transaction when its version differs from the stored one
(so a new ATT&CK release or an edited documentation page is picked up at the next setup, and an
unchanged one costs one row read). Servers sharing a PostgreSQL database take turns with an
advisory lock; SQLite's write lock does the same.

The vectors of the built-in passages by the embedded model ship with Vigil
(`builtin/data/minilm-vectors.npz`, float16, made by `python -m vigil.knowledge_base.builtin.precompute`):
a fresh install can search them at once instead of spending minutes embedding. Passages whose
text is not in that file (documentation edited since) are embedded by the background indexer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
from sqlalchemy import delete, text
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.db.base import utcnow
from vigil.db.engine import Database
from vigil.knowledge_base.builtin import Collection
from vigil.knowledge_base.embeddings import LocalMiniLM
from vigil.knowledge_base.indexing import chunk_rows, insert_chunks
from vigil.knowledge_base.models import (
    BUILTIN_NAMESPACE,
    GLOBAL_OWNER,
    KnowledgeBaseCollection,
    KnowledgeBaseEntry,
    KnowledgeBaseVector,
)
from vigil.knowledge_base.spaces import bump_revisions

logger = logging.getLogger("vigil.knowledge_base")

SHIPPED_VECTORS = "minilm-vectors.npz"
_PG_INSTALL_LOCK = 0x56494B42  # "VIKB"


@dataclass(frozen=True)
class ShippedVectors:
    """Precomputed vectors of built-in passages by the embedded model, by text hash."""

    fingerprint: str
    rows: dict[str, int]
    vectors: np.ndarray  # float16

    def lookup(self, hashes: list[str]) -> tuple[list[str], np.ndarray]:
        known = [digest for digest in hashes if digest in self.rows]
        if not known:
            return [], np.zeros((0, self.vectors.shape[1]), dtype=np.float32)
        matrix = self.vectors[[self.rows[digest] for digest in known]].astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)  # undo float16 rounding drift
        return known, matrix


_shipped: ShippedVectors | None = None
_shipped_lock = threading.Lock()


def shipped_vectors() -> ShippedVectors | None:
    global _shipped
    with _shipped_lock:
        if _shipped is None:
            resource = files("vigil.knowledge_base.builtin") / "data" / SHIPPED_VECTORS
            if not resource.is_file():
                return None
            with resource.open("rb") as handle, np.load(handle) as data:
                hashes = [h.decode() if isinstance(h, bytes) else str(h) for h in data["hashes"]]
                _shipped = ShippedVectors(
                    fingerprint=str(data["fingerprint"]),
                    rows={digest: i for i, digest in enumerate(hashes)},
                    vectors=np.asarray(data["vectors"]),
                )
        return _shipped


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _entry_rows(collection: Collection) -> list[KnowledgeBaseEntry]:
    now = utcnow()
    entries = []
    seen: set[str] = set()
    for item in collection.build():
        if item.id in seen:
            raise ValueError(f"built-in collection {collection.name} has two entries with id {item.id}")
        seen.add(item.id)
        entries.append(
            KnowledgeBaseEntry(
                namespace=BUILTIN_NAMESPACE,
                id=item.id,
                entry_type="document",
                name=item.name,
                kb_resource=collection.kb_resource,
                source=item.source,
                text=item.text,
                required=False,
                owner_id=GLOBAL_OWNER,
                users=[],
                collection=collection.name,
                url=item.url,
                created_by=None,
                updated_by=None,
                created_at=now,
                updated_at=now,
            )
        )
    return entries


def install_collection(session: Session, collection: Collection, default_model: str) -> bool:
    """Replaces the collection's entries when its version changed. True when it did."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_INSTALL_LOCK})
    stored = session.get(KnowledgeBaseCollection, collection.name)
    if stored is not None and stored.version == collection.version:
        return False
    entries = _entry_rows(collection)
    session.execute(
        delete(KnowledgeBaseEntry).where(
            KnowledgeBaseEntry.namespace == BUILTIN_NAMESPACE, KnowledgeBaseEntry.collection == collection.name
        )
    )
    columns = KnowledgeBaseEntry.__table__.columns
    session.execute(
        sa_insert(KnowledgeBaseEntry),
        [{column.key: getattr(entry, column.key) for column in columns} for entry in entries],
    )
    rows = [row for entry in entries for row in chunk_rows(entry)]
    insert_chunks(session, rows)
    shipped = shipped_vectors()
    if shipped is not None and shipped.fingerprint == LocalMiniLM.fingerprint:
        hashes, matrix = shipped.lookup(sorted({str(row["text_hash"]) for row in rows}))
        if hashes:
            session.execute(
                _insert(session)(KnowledgeBaseVector).on_conflict_do_nothing(),
                [
                    {
                        "model_id": shipped.fingerprint,
                        "text_hash": digest,
                        "dimensions": matrix.shape[1],
                        "vector": matrix[i].astype("<f4").tobytes(),
                    }
                    for i, digest in enumerate(hashes)
                ],
            )
    values = {
        "version": collection.version,
        "content_hash": collection.version,
        "entry_count": len(entries),
        "source": collection.source,
        "loaded_at": utcnow(),
    }
    if stored is None:
        session.add(KnowledgeBaseCollection(name=collection.name, **values))
    else:
        for key, value in values.items():
            setattr(stored, key, value)
    bump_revisions(session, [BUILTIN_NAMESPACE], default_model)
    logger.info("knowledge base: loaded %s (%d entries, %d passages)", collection.title, len(entries), len(rows))
    return True


def remove_missing_collections(session: Session, available: list[str], default_model: str) -> list[str]:
    """Collections stored but no longer available (a documentation folder gone) are removed."""
    stored = session.query(KnowledgeBaseCollection).all()
    removed = [row.name for row in stored if row.name not in available]
    for name in removed:
        session.execute(
            delete(KnowledgeBaseEntry).where(
                KnowledgeBaseEntry.namespace == BUILTIN_NAMESPACE, KnowledgeBaseEntry.collection == name
            )
        )
        session.execute(delete(KnowledgeBaseCollection).where(KnowledgeBaseCollection.name == name))
    if removed:
        bump_revisions(session, [BUILTIN_NAMESPACE], default_model)
    return removed


def install_builtin(database: Database, collections: list[Collection], default_model: str) -> list[str]:
    """Loads every collection whose version changed; returns their names."""
    changed = []
    for collection in collections:
        with database.session() as session:
            if install_collection(session, collection, default_model):
                changed.append(collection.name)
    with database.session() as session:
        remove_missing_collections(session, [c.name for c in collections], default_model)
    return changed

"""Dense retrieval: the vectors of a space's chunks in one in-memory matrix, searched by dot product.

Vectors live in the database (`kb_vectors`, float32 bytes) and are loaded once per (space, model)
into a matrix: 100,000 chunks of 384 dimensions take 154 MB. A search is one matrix-vector product
and a partial sort (timings in docs/benchmarks.md).

The matrix follows the database without reloading it: every write to a space bumps its revision
(`kb_spaces.revision`), and a search whose revisions differ from the loaded ones reads only chunks
it has not seen (chunk ids only grow), chunks that were waiting for their vector, and the list of
ids still present, whose absence marks rows dead. Dead rows are compacted away once they are a
quarter of the matrix. Several servers on one PostgreSQL database stay correct the same way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from vigil.knowledge_base.models import KnowledgeBaseChunk, KnowledgeBaseSpace, KnowledgeBaseVector

MAX_CACHED_INDEXES = 16


@dataclass(frozen=True)
class DenseHit:
    chunk_id: int
    score: float  # cosine similarity


@dataclass(frozen=True)
class _Arrays:
    ids: np.ndarray  # int64 chunk ids
    owners: np.ndarray  # int32 owner codes
    matrix: np.ndarray  # float32 (n, dimensions), unit rows
    alive: np.ndarray  # bool


def _empty(dimensions: int) -> _Arrays:
    return _Arrays(
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        np.zeros((0, dimensions), dtype=np.float32),
        np.zeros(0, dtype=bool),
    )


def read_revisions(session: Session, namespaces: Sequence[str]) -> tuple[int, ...]:
    rows = session.execute(
        select(KnowledgeBaseSpace.namespace, KnowledgeBaseSpace.revision).where(
            KnowledgeBaseSpace.namespace.in_(list(namespaces))
        )
    )
    found = {namespace: revision for namespace, revision in rows}
    return tuple(int(found.get(namespace, -1)) for namespace in namespaces)


class DenseIndex:
    """The vectors, by one model, of the chunks of some namespaces. Thread-safe."""

    def __init__(self, namespaces: Sequence[str], model_fingerprint: str) -> None:
        self.namespaces = tuple(namespaces)
        self.model = model_fingerprint
        self._lock = threading.Lock()
        self._arrays: _Arrays | None = None
        self._owner_codes: dict[str, int] = {}
        self._max_id = 0
        self._pending: set[int] = set()  # chunks that had no vector for this model yet
        self._revisions: tuple[int, ...] | None = None

    @property
    def size(self) -> int:
        arrays = self._arrays
        return 0 if arrays is None else int(arrays.alive.sum())

    @property
    def pending(self) -> int:
        return len(self._pending)

    def refresh(self, session: Session) -> None:
        with self._lock:
            revisions = read_revisions(session, self.namespaces)
            if revisions == self._revisions and self._arrays is not None:
                return
            self._load_changes(session)
            self._revisions = revisions

    def _owner_code(self, owner: str) -> int:
        code = self._owner_codes.get(owner)
        if code is None:
            code = self._owner_codes[owner] = len(self._owner_codes)
        return code

    def _load_changes(self, session: Session) -> None:
        chunk = KnowledgeBaseChunk
        in_scope = chunk.namespace.in_(list(self.namespaces))
        unseen = chunk.id > self._max_id
        if self._pending:
            unseen = or_(unseen, and_(chunk.id >= min(self._pending), chunk.id <= self._max_id))
        rows = session.execute(
            select(chunk.id, chunk.owner_id, KnowledgeBaseVector.vector)
            .outerjoin(
                KnowledgeBaseVector,
                and_(KnowledgeBaseVector.model_id == self.model, KnowledgeBaseVector.text_hash == chunk.text_hash),
            )
            .where(in_scope, unseen)
            .order_by(chunk.id)
        ).all()
        arrays = self._arrays
        present: np.ndarray | None = None
        if arrays is not None and len(arrays.ids):
            present = np.fromiter(session.scalars(select(chunk.id).where(in_scope)), dtype=np.int64)
        new_ids: list[int] = []
        new_owners: list[int] = []
        blobs: list[bytes] = []
        pending: set[int] = set()
        dimensions = arrays.matrix.shape[1] if arrays is not None and len(arrays.ids) else None
        for chunk_id, owner, vector in rows:
            if chunk_id <= self._max_id and chunk_id not in self._pending:
                continue  # loaded already
            if vector is None:
                pending.add(chunk_id)
                continue
            size = len(vector) // 4
            if dimensions is None:
                dimensions = size
            if size != dimensions:
                continue  # a vector of another size cannot share the matrix; reindex fixes it
            new_ids.append(chunk_id)
            new_owners.append(self._owner_code(owner))
            blobs.append(vector)
        if rows:
            self._max_id = max(self._max_id, max(row[0] for row in rows))
        self._pending = pending
        if dimensions is None:
            self._arrays = arrays or _empty(0)
            return
        base = arrays if arrays is not None and len(arrays.ids) else _empty(dimensions)
        alive = base.alive if present is None else base.alive & np.isin(base.ids, present)
        if new_ids:
            matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(new_ids), dimensions)
            base = _Arrays(
                np.concatenate([base.ids, np.asarray(new_ids, dtype=np.int64)]),
                np.concatenate([base.owners, np.asarray(new_owners, dtype=np.int32)]),
                np.vstack([base.matrix, matrix.astype(np.float32)]),
                np.concatenate([alive, np.ones(len(new_ids), dtype=bool)]),
            )
        else:
            base = _Arrays(base.ids, base.owners, base.matrix, alive)
        if len(base.ids) and base.alive.sum() < 0.75 * len(base.ids):
            keep = base.alive
            base = _Arrays(base.ids[keep], base.owners[keep], np.ascontiguousarray(base.matrix[keep]), base.alive[keep])
        self._arrays = base

    def search(self, query: np.ndarray, owners: Sequence[str], limit: int) -> list[DenseHit]:
        arrays = self._arrays
        if arrays is None or not len(arrays.ids) or limit <= 0:
            return []
        if query.shape[-1] != arrays.matrix.shape[1]:
            return []
        codes = [self._owner_codes[o] for o in owners if o in self._owner_codes]
        mask = arrays.alive & np.isin(arrays.owners, np.asarray(codes, dtype=np.int32))
        candidates = int(mask.sum())
        if candidates == 0:
            return []
        scores = arrays.matrix @ query.astype(np.float32)
        scores = np.where(mask, scores, -np.inf)
        limit = min(limit, candidates)
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [DenseHit(int(arrays.ids[i]), float(scores[i])) for i in top]


class DenseIndexCache:
    """One DenseIndex per (namespaces, model), the least recently used dropped past a bound."""

    def __init__(self, capacity: int = MAX_CACHED_INDEXES) -> None:
        self._capacity = capacity
        self._indexes: OrderedDict[tuple[tuple[str, ...], str], DenseIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, namespaces: Sequence[str], model_fingerprint: str) -> DenseIndex:
        key = (tuple(namespaces), model_fingerprint)
        with self._lock:
            index = self._indexes.get(key)
            if index is None:
                index = self._indexes[key] = DenseIndex(namespaces, model_fingerprint)
            self._indexes.move_to_end(key)
            while len(self._indexes) > self._capacity:
                self._indexes.popitem(last=False)
            return index

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()

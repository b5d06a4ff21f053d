"""Dense retrieval: the vectors of a space's chunks in memory, searched by dot product.

Vectors live in the database (`kb_vectors`, float32 bytes) and are loaded once per (space, model):
100,000 chunks of 384 dimensions take 154 MB. The float32 matrix is kept split in two planes of
16 bits: the high halves (sign, exponent and the top 7 bits of the mantissa, i.e. bfloat16) and
the low halves. A search scores every row on the high plane only (half the memory traffic of the
float32 product, which is what a scan over 100k rows costs), then rescores exactly, in float32,
every row the truncation could have moved into the top: truncating a value loses less than 2^-7
of it, so a row's approximate score is within 2^-7 |q| |m| of its exact one (Cauchy-Schwarz),
and a row whose approximate score is more than twice that below the k-th best cannot be in the
top k. The answer is the exact float32 top k (timings in docs/benchmarks.md).

The matrix follows the database without reloading it: every write to a space bumps its revision
(`kb_spaces.revision`), and a search whose revisions differ from the loaded ones reads only chunks
it has not seen (chunk ids only grow), chunks that were waiting for their vector, and the list of
ids still present, whose absence marks rows dead. Dead rows are compacted away once they are a
quarter of the matrix. Several servers on one PostgreSQL database stay correct the same way: the
revision check is one primary-key read of `kb_spaces` per search.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from vigil.knowledge_base import blas
from vigil.knowledge_base.models import KnowledgeBaseChunk, KnowledgeBaseSpace, KnowledgeBaseVector

MAX_CACHED_INDEXES = 16
# Rows scored per block of the high-plane scan: the widened block (1.5 MB) stays in the core's cache.
SCAN_BLOCK = 1024
# Bound on the relative error of a float32 truncated to its high 16 bits (7 mantissa bits kept),
# plus float32 rounding of a 384..4096-term dot product, with margin.
TRUNCATION_ERROR = 2.0**-7 + 1e-3


@dataclass(frozen=True)
class DenseHit:
    chunk_id: int
    score: float  # cosine similarity


@dataclass(frozen=True)
class _Arrays:
    ids: np.ndarray  # int64 chunk ids
    owners: np.ndarray  # int32 owner codes
    high: np.ndarray  # uint16 (n, dimensions): high halves of the float32 vectors
    low: np.ndarray  # uint16 (n, dimensions): low halves
    norms: np.ndarray  # float32 (n,): length of each vector, for the truncation bound
    alive: np.ndarray  # bool
    # Rows visible to a set of owner codes (alive and owned by one of them), per set; valid as long
    # as these arrays, which are replaced, never modified, when the index changes.
    masks: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict, compare=False)

    @property
    def dimensions(self) -> int:
        return int(self.high.shape[1])

    def select(self, keep: np.ndarray) -> _Arrays:
        return _Arrays(
            self.ids[keep],
            self.owners[keep],
            np.ascontiguousarray(self.high[keep]),
            np.ascontiguousarray(self.low[keep]),
            self.norms[keep],
            self.alive[keep],
        )


def _empty(dimensions: int) -> _Arrays:
    return _Arrays(
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        np.zeros((0, dimensions), dtype=np.uint16),
        np.zeros((0, dimensions), dtype=np.uint16),
        np.zeros(0, dtype=np.float32),
        np.zeros(0, dtype=bool),
    )


def split_planes(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A float32 matrix as its high and low 16-bit planes."""
    bits = np.ascontiguousarray(matrix, dtype=np.float32).view(np.uint32)
    return (bits >> 16).astype(np.uint16), (bits & 0xFFFF).astype(np.uint16)


_scratch = threading.local()


def _approximate_scores(high: np.ndarray, query: np.ndarray) -> np.ndarray:
    """query . row for every row, with each row truncated to its high 16 bits, block by block so
    the widened block stays in cache (one scratch buffer per thread)."""
    n, dimensions = high.shape
    buffer: np.ndarray | None = getattr(_scratch, "buffer", None)
    if buffer is None or buffer.shape[1] != dimensions:
        buffer = _scratch.buffer = np.empty((SCAN_BLOCK, dimensions), dtype=np.uint32)
    scores = np.empty(n, dtype=np.float32)
    for start in range(0, n, SCAN_BLOCK):
        stop = min(n, start + SCAN_BLOCK)
        block = buffer[: stop - start]
        block[...] = high[start:stop]
        block <<= 16
        np.dot(block.view(np.float32), query, out=scores[start:stop])
    return scores


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
        dimensions = arrays.dimensions if arrays is not None and len(arrays.ids) else None
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
            high, low = split_planes(matrix)
            base = _Arrays(
                np.concatenate([base.ids, np.asarray(new_ids, dtype=np.int64)]),
                np.concatenate([base.owners, np.asarray(new_owners, dtype=np.int32)]),
                np.vstack([base.high, high]),
                np.vstack([base.low, low]),
                np.concatenate([base.norms, np.linalg.norm(matrix, axis=1).astype(np.float32)]),
                np.concatenate([alive, np.ones(len(new_ids), dtype=bool)]),
            )
        else:
            base = _Arrays(base.ids, base.owners, base.high, base.low, base.norms, alive)
        if len(base.ids) and base.alive.sum() < 0.75 * len(base.ids):
            base = base.select(base.alive)
        self._arrays = base

    def _visible(self, arrays: _Arrays, owners: Sequence[str]) -> np.ndarray:
        codes = tuple(sorted({self._owner_codes[o] for o in owners if o in self._owner_codes}))
        mask = arrays.masks.get(codes)
        if mask is None:
            mask = arrays.masks[codes] = arrays.alive & np.isin(arrays.owners, np.asarray(codes, dtype=np.int32))
        return mask

    def search(self, query: np.ndarray, owners: Sequence[str], limit: int) -> list[DenseHit]:
        """The `limit` rows of the given owners closest to `query`: exact float32 scores, best
        first, ties by load order."""
        arrays = self._arrays
        if arrays is None or not len(arrays.ids) or limit <= 0:
            return []
        if query.shape[-1] != arrays.dimensions:
            return []
        mask = self._visible(arrays, owners)
        candidates = int(np.count_nonzero(mask))
        if candidates == 0:
            return []
        rows, scores = best_rows(arrays.high, arrays.low, arrays.norms, mask, query, min(limit, candidates))
        return [DenseHit(int(arrays.ids[row]), float(score)) for row, score in zip(rows, scores, strict=True)]


def best_rows(
    high: np.ndarray, low: np.ndarray, norms: np.ndarray, mask: np.ndarray, query: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The `limit` rows of `mask` (at least that many) with the highest float32 dot product with
    `query`, best first, ties by row, and their scores. The rows are the high and low 16-bit planes
    of float32 vectors (`norms` their lengths); only the high plane is read for every row."""
    query = np.ascontiguousarray(query, dtype=np.float32)
    with blas.single_thread():
        approximate = _approximate_scores(high, query)
        if not mask.all():
            approximate[~mask] = -np.inf
        # The limit-th best approximate score; every row of the exact top `limit` scores at least
        # this minus twice the largest truncation error (module docstring).
        cut = len(approximate) - limit
        kth = float(np.partition(approximate, cut)[cut])
        margin = 2 * TRUNCATION_ERROR * float(np.linalg.norm(query)) * float(norms.max())
        rows = np.flatnonzero(approximate >= kth - margin)
        whole = (high[rows].astype(np.uint32) << 16) | low[rows]
        exact = whole.view(np.float32) @ query
    order = np.lexsort((rows, -exact))[:limit]
    return rows[order], exact[order]


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

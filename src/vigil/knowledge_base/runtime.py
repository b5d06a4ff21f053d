"""The knowledge base of a running server: embedding models, cached dense indexes, the background
indexer, setup and status. Routes, agent tools, the chat engine and the CLI all go through it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from vigil.auth.principal import Principal
from vigil.db.base import utcnow
from vigil.db.engine import Database
from vigil.errors import BadRequest, VigilError
from vigil.knowledge_base import builtin, indexing, retrieval, service, spaces
from vigil.knowledge_base.dense import DenseHit, DenseIndexCache
from vigil.knowledge_base.embeddings import LOCAL_MODEL_ID, EmbeddingModel, EmbeddingModels
from vigil.knowledge_base.embeddings.minilm import is_installed as local_model_installed
from vigil.knowledge_base.installer import install_builtin
from vigil.knowledge_base.models import BUILTIN_NAMESPACE, KnowledgeBaseCollection
from vigil.settings import Settings

logger = logging.getLogger("vigil.knowledge_base")

# A write with at most this many passages to embed is embedded before the request answers, so
# "remember ..." is found by meaning in the very next turn; larger ones go to the background.
INLINE_EMBED_LIMIT = 16
INDEXER_POLL_SECONDS = 30.0
INDEXER_STOP_SECONDS = 120  # a batch takes seconds; minutes only on a starved machine
# Questions whose vectors are kept (384 floats each for the embedded model).
QUERY_VECTOR_CACHE_SIZE = 256


@dataclass(frozen=True)
class SpaceView:
    namespaces: list[str]
    model_name: str


class KnowledgeBase:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.models = EmbeddingModels(settings)
        self.dense = DenseIndexCache()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._install_lock = threading.Lock()
        self.installing = False
        self._embedder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vigil-kb-query")
        self.query_vectors = QueryVectorCache()

    @property
    def default_model(self) -> str:
        return self.settings.knowledge_base_embedding_model

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """At server start: load changed built-in content (auto setup) and start the indexer."""
        if self.settings.knowledge_base_auto_setup:
            self.install_builtin()
        self._thread = threading.Thread(target=self._run_indexer, name="vigil-kb-indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            # The indexer stops between batches (EMBED_BATCH passages). Wait for it: a thread still
            # inside NumPy or the tokenizer while the interpreter exits aborts the process.
            self._thread.join(timeout=INDEXER_STOP_SECONDS)
        self._embedder.shutdown(wait=False)

    def install_builtin(self) -> list[str]:
        with self._install_lock:
            self.installing = True
            try:
                return install_builtin(self.database, builtin.collections(self.settings), self.default_model)
            finally:
                self.installing = False

    # -- spaces --------------------------------------------------------------------------------------

    def space_view(self, space_id: str) -> SpaceView:
        with self.database.session(readonly=True) as session:
            return self.space_view_in(session, space_id)

    def space_view_in(self, session: Session, space_id: str) -> SpaceView:
        space = spaces.get_space(session, space_id)
        return SpaceView(spaces.search_namespaces(space, space_id), spaces.model_of(space, self.default_model))

    def setup(self, space_id: str, model_name: str | None, ignore_builtin: bool) -> None:
        """Kibana's `POST /knowledge_base`: choose the space's model, load the built-in content."""
        name = model_name or self.default_model
        if not self.models.exists(name):
            raise BadRequest(f"unknown embedding model [{name}] for modelId; available: {', '.join(self.models.names)}")
        self.install_builtin()
        with self.database.session() as session:
            spaces.ensure_spaces(session, [space_id], name)
            space = spaces.get_space(session, space_id)
            assert space is not None
            space.embedding_model_id = name
            space.builtin_enabled = not ignore_builtin
            space.set_up_at = space.set_up_at or utcnow()
            spaces.bump_revisions(session, [space_id], self.default_model)
        self._wake.set()

    def status(self, principal: Principal, space_id: str) -> dict[str, Any]:
        with self.database.session(readonly=True) as session:
            space = spaces.get_space(session, space_id)
            namespaces = spaces.search_namespaces(space, space_id)
            name = spaces.model_of(space, self.default_model)
            user_data = service.user_data_exists(session, principal, space_id)
            stored = {row.name: row for row in session.query(KnowledgeBaseCollection).all()}
            available = self.model_available(name)
            pending = 0
            if available:
                try:
                    pending = indexing.count_missing(session, self.models.get(name).fingerprint, namespaces)
                except VigilError:
                    available = False
        set_up = (space is not None and space.set_up_at is not None) or self.settings.knowledge_base_auto_setup
        builtin_on = BUILTIN_NAMESPACE in namespaces
        collections = [
            {
                "name": c.name,
                "title": c.title,
                "version": c.version,
                "entries": stored[c.name].entry_count if c.name in stored else 0,
                "source": c.source,
            }
            for c in builtin.collections(self.settings)
            if c.name in stored and builtin_on
        ]
        return {
            "elser_exists": available,
            "index_exists": set_up,
            "is_setup_available": True,
            "is_setup_in_progress": self.installing or (set_up and available and pending > 0),
            "pipeline_exists": set_up,
            "security_labs_exists": set_up and bool(collections),
            "user_data_exists": user_data,
            "product_documentation_status": "installed"
            if any(c["name"] == "vigil-docs" for c in collections)
            else "uninstalled",
            "embedding_model_id": name,
            "embedding_model_available": available,
            "pending_embeddings": pending,
            "builtin_collections": collections,
        }

    def model_available(self, name: str) -> bool:
        if name == LOCAL_MODEL_ID:
            return local_model_installed()
        return self.models.exists(name)

    # -- embedding -------------------------------------------------------------------------------

    def after_write(self, space_id: str) -> None:
        """Embeds a small write at once; larger ones (and failures) are left to the indexer."""
        view = self.space_view(space_id)
        try:
            model = self.models.get(view.model_name)
            with self.database.session(readonly=True) as session:
                todo = indexing.missing_texts(session, model.fingerprint, [space_id], INLINE_EMBED_LIMIT + 1)
            if 0 < len(todo) <= INLINE_EMBED_LIMIT and self.model_available(view.model_name):
                vectors = model.embed([passage for _, passage in todo])
                with self.database.session() as session:
                    indexing.store_vectors(
                        session, model.fingerprint, [d for d, _ in todo], vectors, self.default_model
                    )
                return
        except VigilError as exc:
            logger.warning("knowledge base: embedding a write of space %s failed: %s", space_id, exc.message)
        self._wake.set()

    def embed_pending(
        self, *, progress: Callable[[int], None] | None = None, should_stop: Callable[[], bool] = lambda: False
    ) -> int:
        """Embeds every passage that lacks a vector of its space's model (and the built-in content
        for every model in use). Returns how many texts were embedded."""
        with self.database.session(readonly=True) as session:
            plan = spaces.spaces_by_model(session, self.default_model)
        done = 0
        for name, namespaces in plan.items():
            if not self.model_available(name):
                continue
            done += indexing.embed_missing(
                self.database,
                self.models.get(name),
                namespaces,
                self.default_model,
                progress=progress,
                should_stop=should_stop,
            )
        return done

    def models_in_use(self) -> list[str]:
        """Fingerprints of the available models some space (or the default) uses."""
        with self.database.session(readonly=True) as session:
            names = spaces.spaces_by_model(session, self.default_model)
        return [self.models.get(name).fingerprint for name in names if self.model_available(name)]

    def pending_count(self) -> int:
        with self.database.session(readonly=True) as session:
            plan = spaces.spaces_by_model(session, self.default_model)
            total = 0
            for name, namespaces in plan.items():
                if self.model_available(name):
                    total += indexing.count_missing(session, self.models.get(name).fingerprint, namespaces)
        return total

    def _run_indexer(self) -> None:
        while not self._stop.is_set():
            try:
                self.embed_pending(should_stop=self._stop.is_set)
            except VigilError as exc:
                logger.warning("knowledge base indexer: %s", exc.message)
            except Exception:
                logger.exception("knowledge base indexer failed; retrying later")
            self._wake.wait(INDEXER_POLL_SECONDS)
            self._wake.clear()

    # -- retrieval -------------------------------------------------------------------------------

    def retrieve(
        self,
        principal: Principal,
        space_id: str,
        query: str,
        *,
        limit: int | None = None,
        mode: retrieval.Mode = "hybrid",
    ) -> retrieval.Retrieval:
        owners = service.owners_for(principal)
        limit = limit or self.settings.knowledge_base_passages
        with self.database.session(readonly=True) as session:
            view = self.space_view_in(session, space_id)
            model: EmbeddingModel | None = None
            note = None
            if mode != "lexical":
                if self.model_available(view.model_name):
                    model = self.models.get(view.model_name)
                else:
                    note = f"embedding model {view.model_name} is not installed; full-text search only"
            try:
                return self._retrieve(session, view, owners, query, limit, mode, model, note)
            except VigilError as exc:
                if model is None:
                    raise
                # The embedding provider failed: answer from full-text search alone.
                note = f"dense retrieval unavailable ({exc.message}); full-text search only"
                logger.warning("knowledge base: %s", note)
                return self._retrieve(session, view, owners, query, limit, "lexical", None, note)

    def _retrieve(
        self,
        session: Session,
        view: SpaceView,
        owners: list[str],
        query: str,
        limit: int,
        mode: retrieval.Mode,
        model: EmbeddingModel | None,
        note: str | None,
    ) -> retrieval.Retrieval:
        dense: Future[list[DenseHit]] | None = None
        if model is not None:
            index = self.dense.get(view.namespaces, model.fingerprint)
            index.refresh(session)
            # Embedding the question and searching the matrix run on another thread while the
            # full-text search runs here (NumPy and SQLite both release the GIL).
            dense = self._embedder.submit(
                lambda: index.search(self.query_vectors.embed(model, query), owners, retrieval.CANDIDATES)
            )
        return retrieval.retrieve(
            session,
            query,
            namespaces=view.namespaces,
            owners=owners,
            limit=limit,
            mode=mode,
            dense=dense,
            dense_note=note,
        )


class QueryVectorCache:
    """The vectors of the latest questions, per model: a question asked again (the same turn
    retried, the context passages and then the tool) skips its embedding. Thread-safe."""

    def __init__(self, capacity: int = QUERY_VECTOR_CACHE_SIZE) -> None:
        self._capacity = capacity
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, model: EmbeddingModel, query: str) -> np.ndarray:
        key = (model.fingerprint, query)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                return vector
        vector = model.embed([query])[0]
        vector.setflags(write=False)  # shared by the searches that hit the cache
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > self._capacity:
                self._vectors.popitem(last=False)
        return vector

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

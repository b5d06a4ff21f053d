"""Embedding models behind one small interface, chosen per knowledge base (per space).

`vigil-minilm` (the local all-MiniLM-L6-v2, no network) is always there; operators add
OpenAI-compatible (`/v1/embeddings`) and Amazon Bedrock models in `knowledge_base_embedding_models`.
Vectors are stored under the model's *fingerprint* (provider, model and dimensions), not its
configured name, so pointing a name at another model re-embeds instead of mixing vector spaces.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from vigil.errors import BadRequest
from vigil.settings import EmbeddingModelConfig, Settings

LOCAL_MODEL_ID = "vigil-minilm"


class EmbeddingModel(Protocol):
    """Turns texts into unit-length float32 rows; raises a VigilError when the model is unusable."""

    @property
    def fingerprint(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit length, so a dot product is the cosine similarity whatever the provider returned."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class LocalMiniLM:
    """The embedded model, loaded on first use (about 0.2 s, 90 MB) and shared by every caller."""

    fingerprint = "local:sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._encoder: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._encoder is None:
                from vigil.knowledge_base.embeddings.minilm import MiniLMEncoder

                self._encoder = MiniLMEncoder()
            return self._encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from vigil.knowledge_base.embeddings.minilm import MiniLMEncoder

        encoder = self._load()
        assert isinstance(encoder, MiniLMEncoder)
        return encoder.encode(texts)


def _build(config: EmbeddingModelConfig, settings: Settings) -> EmbeddingModel:
    if config.provider == "openai":
        from vigil.knowledge_base.embeddings.openai import OpenAICompatibleEmbeddings

        return OpenAICompatibleEmbeddings(config, timeout=settings.llm_request_timeout_seconds)
    from vigil.knowledge_base.embeddings.bedrock import BedrockEmbeddings

    return BedrockEmbeddings(config, timeout=settings.llm_request_timeout_seconds)


class EmbeddingModels:
    """The models a server may use, by configured name; each built once."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._configs = dict(settings.knowledge_base_embedding_models)
        self._built: dict[str, EmbeddingModel] = {LOCAL_MODEL_ID: LocalMiniLM()}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return sorted({LOCAL_MODEL_ID, *self._configs})

    def exists(self, name: str) -> bool:
        return name == LOCAL_MODEL_ID or name in self._configs

    def get(self, name: str) -> EmbeddingModel:
        with self._lock:
            model = self._built.get(name)
            if model is None:
                config = self._configs.get(name)
                if config is None:
                    raise BadRequest(
                        f"unknown embedding model [{name}]; configured: {', '.join(self.names)} "
                        "(knowledge_base_embedding_models)"
                    )
                model = self._built[name] = _build(config, self._settings)
            return model

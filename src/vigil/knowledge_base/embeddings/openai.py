"""OpenAI-compatible `POST {url}/embeddings` (OpenAI, Azure's v1 API, Ollama, vLLM, LM Studio, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from vigil.errors import UpstreamError
from vigil.knowledge_base.embeddings import normalise
from vigil.settings import EmbeddingModelConfig


class OpenAICompatibleEmbeddings:
    def __init__(self, config: EmbeddingModelConfig, *, timeout: float) -> None:
        if not config.url:
            raise ValueError("an openai embedding model needs `url` (e.g. https://api.openai.com/v1)")
        self._url = config.url.rstrip("/") + "/embeddings"
        self._model = config.model
        self._dimensions = config.dimensions
        self._batch = config.batch_size
        self._headers = {"content-type": "application/json"}
        if config.api_key is not None:
            self._headers["authorization"] = f"Bearer {config.api_key.get_secret_value()}"
        self._timeout = timeout
        self.fingerprint = f"openai:{self._model}:{self._dimensions or 'default'}"

    def _request(self, client: httpx.Client, texts: Sequence[str]) -> np.ndarray:
        body: dict[str, Any] = {"model": self._model, "input": list(texts), "encoding_format": "float"}
        if self._dimensions:
            body["dimensions"] = self._dimensions
        try:
            response = client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"embedding request to [{self._url}] failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            # The body may echo input text; keep only the status in the message.
            raise UpstreamError(f"embedding request to [{self._url}] answered HTTP {response.status_code}")
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise UpstreamError(f"embedding response from [{self._url}] is not an embeddings list") from exc
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise UpstreamError(
                f"embedding response from [{self._url}] has {len(vectors)} vectors for {len(texts)} texts"
            )
        return vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimensions or 0), dtype=np.float32)
        with httpx.Client(timeout=self._timeout) as client:
            parts = [self._request(client, texts[i : i + self._batch]) for i in range(0, len(texts), self._batch)]
        return normalise(np.vstack(parts))

"""Amazon Bedrock embeddings: Titan Text Embeddings (v1/v2) and Cohere Embed, through boto3."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
import numpy as np
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vigil.errors import UpstreamError
from vigil.knowledge_base.embeddings import normalise
from vigil.settings import EmbeddingModelConfig


class BedrockEmbeddings:
    def __init__(self, config: EmbeddingModelConfig, *, timeout: float) -> None:
        credentials: dict[str, Any] = {}
        if config.access_key is not None and config.secret_key is not None:
            credentials = {
                "aws_access_key_id": config.access_key.get_secret_value(),
                "aws_secret_access_key": config.secret_key.get_secret_value(),
            }
        self._client = boto3.client(
            "bedrock-runtime",
            region_name=config.region,
            endpoint_url=config.url,
            config=Config(read_timeout=timeout, retries={"mode": "standard", "total_max_attempts": 3}),
            **credentials,
        )
        self._model = config.model
        self._dimensions = config.dimensions
        self._batch = config.batch_size
        self._cohere = self._model.startswith("cohere.")
        self.fingerprint = f"bedrock:{self._model}:{self._dimensions or 'default'}"

    def _invoke(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.invoke_model(
                modelId=self._model, body=json.dumps(body), contentType="application/json", accept="application/json"
            )
            return json.loads(response["body"].read())  # type: ignore[no-any-return]
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise UpstreamError(f"Bedrock embedding request for [{self._model}] failed: {type(exc).__name__}") from exc

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors: list[list[float]] = []
        if self._cohere:  # Cohere takes batches of up to 96 texts
            for start in range(0, len(texts), min(self._batch, 96)):
                batch = list(texts[start : start + min(self._batch, 96)])
                answer = self._invoke({"texts": batch, "input_type": "search_document"})
                vectors.extend(answer.get("embeddings", []))
        else:  # Titan embeds one text per request
            for text in texts:
                body: dict[str, Any] = {"inputText": text}
                if self._dimensions:
                    body["dimensions"] = self._dimensions
                vectors.append(self._invoke(body).get("embedding", []))
        if len(vectors) != len(texts):
            raise UpstreamError(f"Bedrock returned {len(vectors)} embeddings for {len(texts)} texts")
        if not texts:
            return np.zeros((0, self._dimensions or 0), dtype=np.float32)
        return normalise(np.asarray(vectors, dtype=np.float32))

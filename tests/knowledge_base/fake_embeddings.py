"""A fake embeddings service over real HTTP: OpenAI-compatible `/v1/embeddings` and Bedrock's
`/model/{id}/invoke` (Titan and Cohere bodies), answering deterministic bag-of-words vectors and
recording every request. Used to test the providers and model changes."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DIMENSIONS = 32


def bag_of_words(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in text.lower().split():
        vector[int(hashlib.sha256(word.strip(".,?!").encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    return vector


class FakeEmbeddings:
    def __init__(self, *, api_key: str = "sk-fake-embeddings-key", fail_with: int | None = None) -> None:
        self.api_key = api_key
        self.fail_with = fail_with
        self.requests: list[dict[str, Any]] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
        if self.fail_with:
            return JSONResponse({"error": {"message": "down"}}, status_code=self.fail_with)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": bag_of_words(t)} for i, t in enumerate(inputs)]
        return JSONResponse({"object": "list", "data": list(reversed(data)), "model": body["model"]})

    async def _bedrock_invoke(self, request: Request) -> Response:
        body = await request.json()
        model = request.path_params["model_id"]
        self.requests.append({"headers": dict(request.headers), "body": body, "model": model})
        if "authorization" not in request.headers:  # boto3 signs every request (SigV4)
            return JSONResponse({"message": "missing signature"}, status_code=403)
        if model.startswith("cohere."):
            return JSONResponse({"embeddings": [bag_of_words(t) for t in body["texts"]], "id": "x"})
        return JSONResponse({"embedding": bag_of_words(body["inputText"]), "inputTextTokenCount": 3})

    def __enter__(self) -> FakeEmbeddings:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/model/{model_id:path}/invoke", self._bedrock_invoke, methods=["POST"]),
            ]
        )
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

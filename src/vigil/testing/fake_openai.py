"""A scripted fake of the OpenAI Chat Completions API, served over real HTTP.

Tests script the replies; the fake records every request so tests can assert what Vigil sent::

    with FakeOpenAI() as fake:
        fake.script(status(429, retry_after=0.01), tool_call("get_time", {"tz": "UTC"}), reply("done"))
        ...  # point an OpenAI client at fake.base_url
        assert fake.requests[1].body["messages"][-1]["role"] == "tool"

Benchmarks use ``FakeOpenAI(tokens_per_reply=200, token_delay=0.01)``, which answers every request
with that many tokens without scripting, in-process or as a separate process::

    python -m vigil.testing.fake_openai --port 8088 --tokens 200 --token-delay 0.01

An empty script answers with ``default_text``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = [
    "FakeOpenAI",
    "RecordedRequest",
    "Step",
    "ToolCall",
    "computed",
    "delay",
    "disconnect_after",
    "malformed_stream",
    "reply",
    "status",
    "tool_call",
    "tool_calls",
]

StepKind = Literal["text", "tool_calls", "status", "delay", "malformed", "disconnect", "computed"]


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: Mapping[str, Any]
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}")


@dataclass(frozen=True)
class Step:
    """One scripted answer. Build with the functions below rather than directly."""

    kind: StepKind
    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    status_code: int = 200
    retry_after: float | None = None
    seconds: float = 0.0
    then: Step | None = None
    n_chunks: int = 0
    compute: Callable[[RecordedRequest], Step] | None = None


def reply(text: str) -> Step:
    """Answer with assistant text."""
    return Step("text", text=text)


def tool_call(name: str, arguments: Mapping[str, Any] | None = None, *, id: str | None = None) -> Step:
    """Answer with one tool call."""
    call = ToolCall(name, dict(arguments or {})) if id is None else ToolCall(name, dict(arguments or {}), id)
    return Step("tool_calls", calls=(call,))


def tool_calls(*calls: ToolCall | tuple[str, Mapping[str, Any]]) -> Step:
    """Answer with several tool calls at once: ``tool_calls(("a", {...}), ("b", {...}))``."""
    built = tuple(c if isinstance(c, ToolCall) else ToolCall(c[0], dict(c[1])) for c in calls)
    return Step("tool_calls", calls=built)


def status(code: int, *, retry_after: float | None = None, message: str | None = None) -> Step:
    """Answer with an HTTP error status and OpenAI's error body (``retry-after`` header when given)."""
    return Step("status", status_code=code, retry_after=retry_after, text=message or f"fake error {code}")


def delay(seconds: float, then: Step | None = None) -> Step:
    """Wait before answering (with ``then``, or the default text): for client timeouts."""
    return Step("delay", seconds=seconds, then=then)


def computed(respond: Callable[[RecordedRequest], Step]) -> Step:
    """Answer with the step ``respond(request)`` returns, for replies that depend on what Vigil
    sent (say, citing a reference id a tool returned)."""
    return Step("computed", compute=respond)


def malformed_stream() -> Step:
    """Answer 200 with a body that is not valid JSON (streamed: an SSE event whose data is not JSON)."""
    return Step("malformed")


def disconnect_after(n_chunks: int, text: str = "this answer is cut off before its end") -> Step:
    """Send ``n_chunks`` chunks of the answer, then drop the connection without finishing the response."""
    return Step("disconnect", n_chunks=n_chunks, text=text)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: dict[str, str] = field(default_factory=dict)

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


class _Disconnect(Exception):
    """Raised inside a response body to make the server drop the connection."""


_TOKEN = re.compile(r"\s*\S+|\s+")


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces whose concatenation is ``text``: the fake's idea of a token."""
    return _TOKEN.findall(text) or [""]


def _count_prompt_tokens(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content.split())
        elif isinstance(content, list):
            total += sum(len(str(p.get("text", "")).split()) for p in content if isinstance(p, dict))
        total += 4
    return max(total, 1)


def _sse(payload: Mapping[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


class FakeOpenAI:
    """Scripted OpenAI-compatible server on ``127.0.0.1`` (a free port unless ``port`` is given)."""

    def __init__(
        self,
        *,
        default_text: str = "Hello from the fake model.",
        tokens_per_reply: int | None = None,
        token_delay: float = 0.0,
        model: str = "fake-gpt",
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
        log_level: str = "critical",
    ) -> None:
        self.record = record
        self.log_level = log_level
        self.default_text = default_text
        self.tokens_per_reply = tokens_per_reply
        self.token_delay = token_delay
        self.model = model
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.requests: list[RecordedRequest] = []
        self._script: deque[Step] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/chat/completions", self._chat_completions, methods=["POST"]),
                # Azure OpenAI's shape: /openai/deployments/{deployment}/chat/completions?api-version=...
                Route("/openai/deployments/{deployment}/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/models", self._models, methods=["GET"]),
            ]
        )

    # -- scripting ---------------------------------------------------------------------------------

    def script(self, *steps: Step) -> FakeOpenAI:
        """Append answers to the queue; each request consumes one."""
        with self._lock:
            self._script.extend(steps)
        return self

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_step(self) -> Step:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self.tokens_per_reply is not None:
            return reply("".join(f" tok{i}" if i else f"tok{i}" for i in range(self.tokens_per_reply)))
        return reply(self.default_text)

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeOpenAI is not running; use it as a context manager or call start()")
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"fake-openai-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("FakeOpenAI did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- HTTP ----------------------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        if self.record:
            with self._lock:
                self.requests.append(request)

    async def _models(self, request: Request) -> Response:
        self._record(RecordedRequest(request.method, request.url.path, dict(request.headers), None))
        return JSONResponse(
            {"object": "list", "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "vigil"}]}
        )

    async def _chat_completions(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        recorded = RecordedRequest(
            request.method, request.url.path, dict(request.headers), body, dict(request.query_params)
        )
        self._record(recorded)
        if not isinstance(body, dict):
            return self._error(400, "request body is not a JSON object")
        step = self._next_step()
        if step.compute is not None:
            step = step.compute(recorded)
        while step.kind == "delay":
            await asyncio.sleep(step.seconds)
            step = step.then or reply(self.default_text)
        if step.kind == "status":
            return self._error(step.status_code, step.text, retry_after=step.retry_after)
        model = str(body.get("model") or self.model)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                self._stream(step, model, _count_prompt_tokens(body), include_usage),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        return self._complete(step, model, _count_prompt_tokens(body))

    @staticmethod
    def _error(code: int, message: str, *, retry_after: float | None = None) -> Response:
        error_type = {429: "rate_limit_exceeded", 400: "invalid_request_error", 401: "invalid_api_key"}.get(
            code, "server_error"
        )
        headers = {}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
            headers["retry-after-ms"] = f"{retry_after * 1000:g}"
        return JSONResponse(
            {"error": {"message": message, "type": error_type, "param": None, "code": error_type}},
            status_code=code,
            headers=headers,
        )

    def _complete(self, step: Step, model: str, prompt_tokens: int) -> Response:
        if step.kind == "malformed":
            return Response(b'{"id": "chatcmpl-broken", "choices": [', media_type="application/json")
        completion_tokens = len(split_tokens(step.text))
        message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
        finish_reason = "stop"
        if step.kind == "tool_calls":
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in step.calls
            ]
            completion_tokens = sum(len(json.dumps(c.arguments)) // 4 + 1 for c in step.calls)
            finish_reason = "tool_calls"
        document = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        if step.kind == "disconnect":
            payload = json.dumps(document).encode()
            return StreamingResponse(
                self._truncated(payload), media_type="application/json", headers={"content-length": str(len(payload))}
            )
        return JSONResponse(document)

    @staticmethod
    async def _truncated(payload: bytes) -> AsyncIterator[bytes]:
        yield payload[: len(payload) // 2]
        raise _Disconnect("fake disconnect")

    async def _stream(self, step: Step, model: str, prompt_tokens: int, include_usage: bool) -> AsyncIterator[bytes]:
        chunk_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            return _sse(
                {
                    "id": chunk_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
                }
            )

        if step.kind == "malformed":
            yield chunk({"role": "assistant", "content": ""})
            yield b"data: {this is not json\n\n"
            yield b"data: [DONE]\n\n"
            return

        pieces: list[bytes] = [chunk({"role": "assistant", "content": ""})]
        completion_tokens = 0
        finish_reason = "stop"
        if step.kind == "tool_calls":
            finish_reason = "tool_calls"
            for index, call in enumerate(step.calls):
                pieces.append(
                    chunk(
                        {
                            "tool_calls": [
                                {
                                    "index": index,
                                    "id": call.id,
                                    "type": "function",
                                    "function": {"name": call.name, "arguments": ""},
                                }
                            ]
                        }
                    )
                )
                arguments = json.dumps(call.arguments)
                for fragment in _fragments(arguments, 3):
                    completion_tokens += 1
                    pieces.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}))
        else:
            for token in split_tokens(step.text):
                completion_tokens += 1
                pieces.append(chunk({"content": token}))
        pieces.append(chunk({}, finish_reason))
        if include_usage:
            pieces.append(
                _sse(
                    {
                        "id": chunk_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": {
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": completion_tokens,
                            "total_tokens": prompt_tokens + completion_tokens,
                        },
                    }
                )
            )
        pieces.append(b"data: [DONE]\n\n")

        for sent, piece in enumerate(pieces):
            if step.kind == "disconnect" and sent >= step.n_chunks:
                raise _Disconnect("fake disconnect")
            if sent and self.token_delay:
                await asyncio.sleep(self.token_delay)
            yield piece


def _fragments(text: str, parts: int) -> Iterable[str]:
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI Chat Completions server for benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed at start)")
    parser.add_argument("--tokens", type=int, default=None, help="answer every request with N tokens")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds between streamed tokens")
    parser.add_argument("--text", default="Hello from the fake model.", help="default answer")
    args = parser.parse_args(argv)
    fake = FakeOpenAI(
        default_text=args.text,
        tokens_per_reply=args.tokens,
        token_delay=args.token_delay,
        host=args.host,
        port=args.port,
        record=False,
    )
    with fake:
        print(f"fake OpenAI listening on {fake.base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

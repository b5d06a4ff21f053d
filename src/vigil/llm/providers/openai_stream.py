"""A lean reader of OpenAI Chat Completions streams (SSE), for the `.gen-ai` connector.

pydantic-ai's own reader goes through the OpenAI SDK, which builds a pydantic object per chunk,
and then maps every chunk's usage and provider details: ~160 µs of CPU per token, the largest
cost of a streamed turn. This reader parses the SSE bytes with orjson and feeds pydantic-ai's
parts manager directly (~10 µs per token), producing the same events and the same final
`ModelResponse` (text, thinking, tool calls, usage, finish reason).

It also coalesces: the text deltas of every SSE event that arrived in one network read become
one event. When the server is busy (many streams), tokens queue up in the socket and are then
written on as one larger delta, so the work per token falls as load rises.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx2
import orjson
from openai import APIConnectionError, APIError, APITimeoutError
from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior
from pydantic_ai.messages import FinishReason, ModelResponseStreamEvent, PartStartEvent, TextPart
from pydantic_ai.models import StreamedResponse
from pydantic_ai.models.openai._errors import map_api_errors  # the SDK path's mapping, kept identical
from pydantic_ai.usage import RequestUsage

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_call",
    "content_filter": "content_filter",
    "function_call": "tool_call",
}
# Where OpenAI-compatible servers put a reasoning model's thinking (DeepSeek, vLLM: reasoning_content;
# Ollama, OpenRouter: reasoning); a profile may name another field first.
REASONING_FIELDS = ("reasoning", "reasoning_content")
DONE = b"[DONE]"


async def httpx2_chunks(response: httpx2.Response) -> AsyncIterator[bytes]:
    """An httpx2 response body, with transport failures raised as the SDK raises them mid-stream."""
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx2.TimeoutException as exc:
        raise APITimeoutError(request=response.request) from exc
    except (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream) as exc:
        raise APIConnectionError(request=response.request) from exc


class SSEDecoder:
    """Server-sent events to the `data` of each complete event (text/event-stream framing: lines
    ending in LF, CRLF or CR; a blank line ends an event; several `data:` lines join with LF)."""

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[bytes] = []
        self.event: bytes | None = None

    def feed(self, chunk: bytes) -> list[tuple[bytes | None, bytes]]:
        """(event name, data) of the events `chunk` completes."""
        buffer = self._pending + chunk if self._pending else chunk
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):  # maybe the first half of a CRLF: wait for the next chunk
                self._pending = buffer
                return []
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._pending = lines.pop()
        out: list[tuple[bytes | None, bytes]] = []
        for line in lines:
            if not line:
                if self._data:
                    out.append((self.event, b"\n".join(self._data)))
                    self._data = []
                self.event = None
            elif line.startswith(b"data:"):
                self._data.append(line[6:] if line.startswith(b"data: ") else line[5:])
            elif line.startswith(b"event:"):
                self.event = line[6:].strip()
            # `id:`, `retry:` and `:` comments carry nothing a chat completion needs
        return out


@dataclass
class ChatCompletionsStream(StreamedResponse):
    """A `StreamedResponse` over the raw body of a streamed chat completion."""

    _model_name: str
    _provider_name: str
    _provider_url: str
    _body: AsyncIterator[bytes]  # raising the SDK's errors (APITimeoutError, APIConnectionError)
    _close: Callable[[], Awaitable[None]]
    _error_request: Any = None  # the httpx request, for the SDK's APIError
    _model_id_namespace: str = "openai"
    _thinking_tags: tuple[str, str] | None = None
    _ignore_leading_whitespace: bool = False
    _thinking_field: str | None = None
    _timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    _usage_received: bool | None = field(default=False, init=False)
    # Text and reasoning alternate in separate parts: a new generation after each switch.
    _generation: int = field(default=0, init=False)
    _last_kind: str = field(default="", init=False)
    _has_finish_reason: bool = field(default=False, init=False)
    _refusal: str = field(default="", init=False)

    async def close_stream(self) -> None:
        await self._close()

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        with map_api_errors(self._model_name, self._model_id_namespace):
            async for event in self._events():
                yield event

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        decoder = SSEDecoder()
        received = False
        async for chunk in self._body:
            events = decoder.feed(chunk)
            if not events:
                continue
            received = True
            text: list[str] = []
            for name, data in events:
                if data.startswith(DONE):
                    break
                for event in self._chunk_events(name, data, text):
                    yield event
            if text:
                for event in self._text_events("".join(text)):
                    yield event
        if not received:
            raise UnexpectedModelBehavior("Streamed response ended without content or tool calls")
        if self._refusal:
            self.provider_details = {**(self.provider_details or {}), "refusal": self._refusal}
        if not self._has_finish_reason and not self._refusal and not self.cancelled:
            self.finish_reason = "stop"  # some OpenAI-compatible servers never send one

    def _chunk_events(self, name: bytes | None, data: bytes, text: list[str]) -> Iterator[ModelResponseStreamEvent]:
        """Events of one chunk; its plain text is appended to `text` (flushed by the caller, or
        here before anything that must come after it)."""
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ModelAPIError(self._model_name, f"Failed to decode response as JSON: {exc}") from exc
        if not isinstance(chunk, dict):
            raise ModelAPIError(self._model_name, "Expected a JSON object in the stream")
        if error := chunk.get("error"):
            message = error.get("message") if isinstance(error, dict) else None
            raise APIError(
                message if isinstance(message, str) and message else "An error occurred during streaming",
                self._error_request,
                body=error,
            )
        if (usage := chunk.get("usage")) is not None:
            self._record_usage(usage)
        if response_id := chunk.get("id"):
            self.provider_response_id = response_id
        if model := chunk.get("model"):
            self._model_name = model
        choices = chunk.get("choices")
        if not choices:
            return
        choice = choices[0]
        if reason := choice.get("finish_reason"):
            self._has_finish_reason = True
            self.provider_details = {**(self.provider_details or {}), "finish_reason": reason}
        delta = choice.get("delta")
        if not delta:
            if reason and not self._refusal:
                self.finish_reason = FINISH_REASONS.get(reason)
            return
        if refusal := delta.get("refusal"):
            self._refusal += refusal
            self.finish_reason = "content_filter"
            return
        if reason and not self._refusal:
            self.finish_reason = FINISH_REASONS.get(reason)
        reasoning = self._reasoning(delta)
        content = delta.get("content")
        if isinstance(content, list):  # some servers send a list of parts
            content = "".join(
                p if isinstance(p, str) else p.get("text") or ""
                for p in content
                if isinstance(p, str) or (isinstance(p, dict) and p.get("type") == "text")
            )
        tool_calls = delta.get("tool_calls")
        if reasoning is None and tool_calls is None:
            if content:
                if self._extends_text(content):
                    text.append(content)
                else:
                    if text:
                        yield from self._text_events("".join(text))
                        text.clear()
                    yield from self._text_events(content)
            return
        if text:
            yield from self._text_events("".join(text))
            text.clear()
        if reasoning is not None:
            field_name, value = reasoning
            self._switch("reasoning")
            yield from self._parts_manager.handle_thinking_delta(
                vendor_part_id=("reasoning", self._generation),
                id=field_name,
                content=value,
                provider_name=self._provider_name,
            )
        if content:
            yield from self._text_events(content)
        for call in tool_calls or ():
            function = call.get("function") or {}
            extra = call.get("extra_content")
            self._switch("tool")
            yield from self._parts_manager.handle_tool_call_delta_events(
                vendor_part_id=call.get("index"),
                tool_name=function.get("name"),
                args=function.get("arguments"),
                tool_call_id=call.get("id"),
                provider_name=self._provider_name if extra else None,
                provider_details={"extra_content": extra} if extra else None,
            )

    def _extends_text(self, content: str) -> bool:
        """Whether `content` may be joined to other deltas: only text added to a text part already
        started. The parts manager recognises a `<think>` tag only as a delta of its own, and drops
        leading whitespace only in a part's first delta."""
        if self._thinking_tags and content in self._thinking_tags:
            return False
        if self._last_kind not in ("", "content"):
            return False
        part = self._parts_manager.get_part_by_vendor_id(("content", self._generation))
        return isinstance(part, TextPart)

    def _reasoning(self, delta: dict[str, Any]) -> tuple[str, str] | None:
        for name in (self._thinking_field, *REASONING_FIELDS):
            if name and isinstance(value := delta.get(name), str) and value:
                return name, value
        return None

    def _switch(self, kind: str) -> None:
        if self._last_kind and self._last_kind != kind:
            self._generation += 1
        self._last_kind = kind

    def _text_events(self, content: str) -> Iterator[ModelResponseStreamEvent]:
        self._switch("content")
        for event in self._parts_manager.handle_text_delta(
            vendor_part_id=("content", self._generation),
            content=content,
            thinking_tags=self._thinking_tags,
            ignore_leading_whitespace=self._ignore_leading_whitespace,
        ):
            if isinstance(event, PartStartEvent) and not isinstance(event.part, TextPart):
                event.part.provider_name = self._provider_name  # a <think> block in the text
            yield event

    def _record_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        details = {
            key: value
            for key, value in usage.items()
            if isinstance(value, int) and key not in ("prompt_tokens", "completion_tokens", "total_tokens")
        }
        completion_details = usage.get("completion_tokens_details")
        if isinstance(completion_details, dict):
            details.update({k: v for k, v in completion_details.items() if isinstance(v, int)})
        extracted = RequestUsage.extract(
            {"model": self._model_name, "usage": usage},
            provider=self._provider_name,
            provider_url=self._provider_url,
            provider_fallback="openai",
            api_flavor="chat",
            details=details,
        )
        self._add_usage(extracted, reported=True)

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def provider_name(self) -> str:
        return self._provider_name

    @property
    def provider_url(self) -> str:
        return self._provider_url

    @property
    def timestamp(self) -> datetime:
        return self._timestamp

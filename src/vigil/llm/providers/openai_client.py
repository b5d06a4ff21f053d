"""OpenAI SDK clients whose chat-completions `create` skips the SDK's parameter transform.

The SDK walks every request's parameters against their TypedDict annotations before sending
(`async_maybe_transform`): ~0.75 ms of CPU for a turn with a few tools, a sixth of the time
budget of a whole turn, to change nothing in a body that is already plain JSON, which is what
pydantic-ai builds for text conversations. These clients send such a body as it is (serialized
with orjson); anything else (files, images, audio, a pydantic `response_format`, values orjson
cannot serialize) goes through the SDK's own `create` unchanged. Retries, timeouts, auth, Azure's
URL and the parsing of the response are the SDK's in both cases.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from typing import Any

import orjson
from openai import AsyncAzureOpenAI, AsyncOpenAI, AsyncStream
from openai._base_client import make_request_options
from openai._types import not_given
from openai._utils import is_given
from openai.resources.chat import AsyncChat
from openai.resources.chat.completions import AsyncCompletions
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from vigil.llm.providers.openai_transport import ChatStreamTransport

# `create` arguments that are request options, not body fields.
_REQUEST_OPTIONS = ("extra_headers", "extra_query", "extra_body", "timeout")

# Set while Vigil's own stream reader asks for a stream: `create` then returns the raw
# `OpenedStream` of this transport instead of the SDK's `AsyncStream` (which pydantic-ai's reader
# needs when it reads the stream itself).
_RAW_STREAMS: ContextVar[ChatStreamTransport | None] = ContextVar("vigil_raw_streams", default=None)


@contextmanager
def raw_streams(transport: ChatStreamTransport | None) -> Iterator[None]:
    token = _RAW_STREAMS.set(transport)
    try:
        yield
    finally:
        _RAW_STREAMS.reset(token)


def _is_plain_text(messages: Any) -> bool:
    """Messages whose content is text only (what the SDK's transform leaves as it is)."""
    if not isinstance(messages, list):
        return False
    for message in messages:
        if not isinstance(message, Mapping):
            return False
        content = message.get("content")
        if content is None or isinstance(content, str):
            continue
        if not isinstance(content, list) or not all(
            isinstance(part, Mapping) and part.get("type") == "text" for part in content
        ):
            return False
    return True


class PlainJsonCompletions(AsyncCompletions):
    async def create(self, **params: Any) -> Any:  # type: ignore[override]
        response_format = params.get("response_format")
        if not _is_plain_text(params.get("messages")) or (
            is_given(response_format) and not isinstance(response_format, Mapping)
        ):
            return await super().create(**params)
        options = {key: params.pop(key) for key in _REQUEST_OPTIONS if key in params}
        body = {key: value for key, value in params.items() if is_given(value)}
        if options.get("extra_body"):
            body.update(options["extra_body"])
        try:
            content = orjson.dumps(body)
        except TypeError:
            return await super().create(**params, **options)
        transport = _RAW_STREAMS.get()
        if (
            transport is not None
            and body.get("stream")
            and not options.get("extra_query")
            and not is_given(options.get("timeout", not_given))
            and transport.supports()
        ):
            return await transport.open(content, options.get("extra_headers"))
        return await self._post(
            "/chat/completions",
            content=content,  # already JSON
            options=make_request_options(
                extra_headers=options.get("extra_headers"),
                extra_query=options.get("extra_query"),
                timeout=options.get("timeout", not_given),
                security={"bearer_auth": True},
            ),
            cast_to=ChatCompletion,
            stream=bool(body.get("stream")),
            stream_cls=AsyncStream[ChatCompletionChunk],
        )


class PlainJsonChat(AsyncChat):
    @cached_property
    def completions(self) -> AsyncCompletions:
        return PlainJsonCompletions(self._client)


class PlainJsonOpenAI(AsyncOpenAI):
    @cached_property
    def chat(self) -> AsyncChat:
        return PlainJsonChat(self)


class PlainJsonAzureOpenAI(AsyncAzureOpenAI):
    @cached_property
    def chat(self) -> AsyncChat:
        return PlainJsonChat(self)

"""Streamed `.gen-ai` requests go over aiohttp (`vigil.llm.providers.openai_transport`) with the
SDK's request, retry policy and error types: the same outcomes as the SDK's own transport, which
non-streamed requests still use (tests/llm/test_gen_ai_agent.py pins those)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from pydantic_ai.direct import model_request_stream
from pydantic_ai.exceptions import ModelConnectionError, ModelRateLimitError, ModelServerError, ModelTimeoutError
from pydantic_ai.messages import ModelRequest, ModelResponse
from pydantic_ai.models import Model

from vigil.llm import LlmSettings, build_model
from vigil.llm.providers.openai import ChatCompletionsModel
from vigil.testing.fake_openai import FakeOpenAI, delay, disconnect_after, reply, status


def model_for(fake: FakeOpenAI, **settings: Any) -> Model:
    return build_model(
        ".gen-ai",
        {
            "apiProvider": "Other",
            "apiUrl": f"{fake.base_url}/chat/completions",
            "defaultModel": "vigil-test-model",
            "headers": {"X-Vigil-Test": "yes"},
        },
        {"apiKey": "sk-fake"},
        settings=LlmSettings(**{"max_retries": 2, "request_timeout_seconds": 5, **settings}),
    )


async def answer(model: Model) -> ModelResponse:
    async with model_request_stream(model, [ModelRequest.user_text_prompt("hi", instructions="Be brief.")]) as stream:
        async for _ in stream:
            pass
    return stream.get()


def test_streamed_request_carries_the_sdk_headers(fake: FakeOpenAI) -> None:
    fake.script(reply("Host-7 looks clean."))
    model = model_for(fake)
    assert isinstance(model, ChatCompletionsModel) and model.transport is not None
    assert asyncio.run(answer(model)).text == "Host-7 looks clean."
    (request,) = fake.requests
    assert request.path == "/v1/chat/completions" and request.stream
    assert request.headers["authorization"] == "Bearer sk-fake"
    assert request.headers["x-vigil-test"] == "yes"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("pydantic-ai")
    assert request.headers["x-stainless-retry-count"] == "0"


def test_429_is_retried_after_retry_after_then_succeeds(fake: FakeOpenAI) -> None:
    fake.script(status(429, retry_after=0.3), status(429, retry_after=0.01), reply("finally"))
    started = time.monotonic()
    assert asyncio.run(answer(model_for(fake))).text == "finally"
    assert time.monotonic() - started >= 0.3  # the server's Retry-After, not the SDK's shorter backoff
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]


def test_429_exhausted_raises_rate_limit_error(fake: FakeOpenAI) -> None:
    fake.script(*[status(429, retry_after=0.01)] * 3)
    with pytest.raises(ModelRateLimitError) as caught:
        asyncio.run(answer(model_for(fake, max_retries=1)))
    assert caught.value.status_code == 429 and "fake error 429" in str(caught.value.body)
    assert len(fake.requests) == 2


def test_500_exhausted_raises_server_error(fake: FakeOpenAI) -> None:
    fake.script(*[status(500, retry_after=0.01)] * 3)
    with pytest.raises(ModelServerError) as caught:
        asyncio.run(answer(model_for(fake, max_retries=2)))
    assert caught.value.status_code == 500
    assert len(fake.requests) == 3


def test_a_400_is_not_retried(fake: FakeOpenAI) -> None:
    fake.script(status(400, message="messages: too long"), reply("unused"))
    with pytest.raises(Exception, match="too long"):
        asyncio.run(answer(model_for(fake)))
    assert len(fake.requests) == 1


def test_no_answer_in_time_is_retried_then_times_out(fake: FakeOpenAI) -> None:
    fake.script(delay(2), delay(2))
    started = time.monotonic()
    with pytest.raises(ModelTimeoutError):
        asyncio.run(answer(model_for(fake, max_retries=1, request_timeout_seconds=0.3)))
    assert time.monotonic() - started < 2
    assert len(fake.requests) == 2


def test_a_stream_cut_after_its_headers_is_not_retried(fake: FakeOpenAI) -> None:
    # As with the SDK's transport: once a 200 arrived, the answer may be partly shown already.
    fake.script(disconnect_after(0), reply("unused"))
    with pytest.raises(ModelConnectionError):
        asyncio.run(answer(model_for(fake, max_retries=1)))
    assert len(fake.requests) == 1


def test_unreachable_provider_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    model = build_model(
        ".gen-ai",
        {"apiProvider": "Other", "apiUrl": f"http://127.0.0.1:{port}/v1/chat/completions", "defaultModel": "m"},
        {},
        settings=LlmSettings(max_retries=0, connect_timeout_seconds=1),
    )
    with pytest.raises(ModelConnectionError):
        asyncio.run(answer(model))


def test_azure_stream_uses_deployment_api_version_and_key(fake: FakeOpenAI) -> None:
    fake.script(reply("from azure"))
    host = fake.base_url.removesuffix("/v1")
    model = build_model(
        ".gen-ai",
        {
            "apiProvider": "Azure OpenAI",
            "apiUrl": f"{host}/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-02-01",
        },
        {"apiKey": "azure-key"},
        settings=LlmSettings(max_retries=0),
    )
    assert asyncio.run(answer(model)).text == "from azure"
    (request,) = fake.requests
    assert request.path == "/openai/deployments/gpt-4o-prod/chat/completions" and request.stream
    assert request.query == {"api-version": "2024-02-01"}
    assert request.headers["api-key"] == "azure-key"
    assert "authorization" not in request.headers


def test_one_model_serves_many_event_loops(fake: FakeOpenAI) -> None:
    # Each asyncio.run is a new loop; the transport opens a session per loop.
    model = model_for(fake)
    for text in ("one", "two"):
        fake.script(reply(text))
        assert asyncio.run(answer(model)).text == text


def test_proxy_variables_are_honoured(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy nobody listens on: requests through it fail, NO_PROXY hosts go direct.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fake.script(reply("direct"))
    assert asyncio.run(answer(model_for(fake, max_retries=0))).text == "direct"
    monkeypatch.delenv("NO_PROXY")
    with pytest.raises(ModelConnectionError):
        asyncio.run(answer(model_for(fake, max_retries=0)))

"""The ``.gen-ai`` model against a real-HTTP fake OpenAI server, through a pydantic-ai Agent.

How failures surface (what the agent layer maps to user-facing errors), all subclasses of
``pydantic_ai.exceptions.ModelAPIError``:

- 429 after the retries are spent → ``ModelRateLimitError`` (also a ``ModelHTTPError``, status 429)
- 5xx after the retries are spent → ``ModelServerError`` (also a ``ModelHTTPError``, status 5xx)
- timeout                          → ``ModelTimeoutError`` (a ``ModelConnectionError``)
- dropped connection               → ``ModelConnectionError``
- malformed body or stream         → ``ModelAPIError`` ("Failed to decode response as JSON")
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelServerError,
    ModelTimeoutError,
)

from vigil.llm import LlmSettings, build_model
from vigil.testing.fake_openai import (
    FakeOpenAI,
    delay,
    disconnect_after,
    malformed_stream,
    reply,
    status,
    tool_call,
    tool_calls,
)


def make_agent(fake: FakeOpenAI, **settings: Any) -> Agent[None, str]:
    model = build_model(
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
    agent: Agent[None, str] = Agent(model, instructions="You are a SOC assistant.")

    @agent.tool_plain
    def get_time(tz: str) -> str:
        """Current time in a time zone."""
        return f"12:00 in {tz}"

    @agent.tool_plain
    def host_risk(host: str) -> int:
        """Risk score of a host."""
        return 87 if host == "host-7" else 1

    return agent


async def stream_text(agent: Agent[None, str], prompt: str) -> tuple[list[str], Any]:
    async with agent.run_stream(prompt) as result:
        chunks = [chunk async for chunk in result.stream_text(delta=True, debounce_by=None)]
    return chunks, result.usage


def test_plain_text(fake: FakeOpenAI) -> None:
    fake.script(reply("Host-7 looks clean."))
    result = asyncio.run(make_agent(fake).run("Is host-7 compromised?"))
    assert result.output == "Host-7 looks clean."
    assert result.usage.requests == 1
    assert result.usage.output_tokens > 0
    (request,) = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-fake"
    assert request.headers["x-vigil-test"] == "yes"
    assert request.body["model"] == "vigil-test-model"
    assert request.body["messages"][0] == {"role": "system", "content": "You are a SOC assistant."}
    assert request.body["messages"][-1] == {"role": "user", "content": "Is host-7 compromised?"}
    assert {tool["function"]["name"] for tool in request.body["tools"]} == {"get_time", "host_risk"}
    assert not request.stream


def test_streamed_text(fake: FakeOpenAI) -> None:
    fake.script(reply("Three alerts need triage now."))
    chunks, usage = asyncio.run(stream_text(make_agent(fake), "What is open?"))
    assert "".join(chunks) == "Three alerts need triage now."
    assert len(chunks) > 1
    assert usage.output_tokens == 5
    (request,) = fake.requests
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


def test_tool_call_round_trip(fake: FakeOpenAI) -> None:
    fake.script(tool_call("get_time", {"tz": "UTC"}, id="call_1"), reply("It is noon UTC."))
    result = asyncio.run(make_agent(fake).run("What time is it?"))
    assert result.output == "It is noon UTC."
    assert result.usage.requests == 2
    _, second = fake.requests
    messages = second.body["messages"]
    assert messages[-2]["tool_calls"][0]["id"] == "call_1"
    assert messages[-2]["tool_calls"][0]["function"]["name"] == "get_time"
    assert messages[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "12:00 in UTC"}


def test_parallel_tool_calls_streamed(fake: FakeOpenAI) -> None:
    fake.script(
        tool_calls(("get_time", {"tz": "CET"}), ("host_risk", {"host": "host-7"})),
        reply("Noon CET; host-7 scores 87."),
    )
    chunks, _ = asyncio.run(stream_text(make_agent(fake), "time and risk?"))
    assert "".join(chunks) == "Noon CET; host-7 scores 87."
    second = fake.requests[1]
    tool_messages = [m for m in second.body["messages"] if m["role"] == "tool"]
    assert sorted(m["content"] for m in tool_messages) == ["12:00 in CET", "87"]
    assert second.stream


def test_retries_429_then_succeeds(fake: FakeOpenAI) -> None:
    fake.script(status(429, retry_after=0.01), status(429, retry_after=0.01), reply("finally"))
    result = asyncio.run(make_agent(fake, max_retries=2).run("hi"))
    assert result.output == "finally"
    assert len(fake.requests) == 3
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]


def test_429_exhausted_raises_rate_limit_error(fake: FakeOpenAI) -> None:
    fake.script(*[status(429, retry_after=0.01)] * 3)
    with pytest.raises(ModelRateLimitError) as caught:
        asyncio.run(make_agent(fake, max_retries=1).run("hi"))
    assert isinstance(caught.value, ModelHTTPError)
    assert caught.value.status_code == 429
    assert len(fake.requests) == 2


def test_500_exhausted_raises_server_error(fake: FakeOpenAI) -> None:
    fake.script(*[status(500, retry_after=0.01)] * 3)
    with pytest.raises(ModelServerError) as caught:
        asyncio.run(make_agent(fake, max_retries=2).run("hi"))
    assert isinstance(caught.value, ModelHTTPError)
    assert caught.value.status_code == 500
    assert len(fake.requests) == 3


def test_timeout(fake: FakeOpenAI) -> None:
    fake.script(delay(2), delay(2))
    started = time.monotonic()
    with pytest.raises(ModelTimeoutError):
        asyncio.run(make_agent(fake, max_retries=0, request_timeout_seconds=0.3).run("hi"))
    assert time.monotonic() - started < 2
    assert len(fake.requests) == 1


def test_streamed_timeout(fake: FakeOpenAI) -> None:
    fake.script(delay(2))
    with pytest.raises(ModelTimeoutError):
        asyncio.run(stream_text(make_agent(fake, max_retries=0, request_timeout_seconds=0.3), "hi"))


def test_malformed_body(fake: FakeOpenAI) -> None:
    fake.script(malformed_stream())
    with pytest.raises(ModelAPIError, match="decode"):
        asyncio.run(make_agent(fake).run("hi"))


def test_malformed_stream(fake: FakeOpenAI) -> None:
    fake.script(malformed_stream())
    with pytest.raises(ModelAPIError, match="decode"):
        asyncio.run(stream_text(make_agent(fake), "hi"))


def test_disconnect_mid_stream(fake: FakeOpenAI) -> None:
    fake.script(disconnect_after(3))
    with pytest.raises(ModelConnectionError):
        asyncio.run(stream_text(make_agent(fake), "hi"))
    assert len(fake.requests) == 1  # a stream that has started is never retried


def test_disconnect_before_body_is_retried_then_fails(fake: FakeOpenAI) -> None:
    fake.script(disconnect_after(0), disconnect_after(0))
    with pytest.raises(ModelConnectionError):
        asyncio.run(make_agent(fake, max_retries=1).run("hi"))
    assert len(fake.requests) == 2


def test_azure_requests_carry_deployment_api_version_and_key(fake: FakeOpenAI) -> None:
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
    assert asyncio.run(Agent(model).run("hi")).output == "from azure"
    (request,) = fake.requests
    assert request.path == "/openai/deployments/gpt-4o-prod/chat/completions"
    assert request.query == {"api-version": "2024-02-01"}
    assert request.headers["api-key"] == "azure-key"

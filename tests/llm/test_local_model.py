"""The embedded model: message mapping and prompted tools against a stub llama, then the real SmolLM2."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import Agent

from vigil.llm import build_model
from vigil.llm.local import LocalModel, LocalModelOptions, LocalRuntime, find_gguf


class StubLlama:
    """Answers from a script like llama_cpp.Llama.create_chat_completion and records the calls."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []
        self.n_tokens = 0

    def create_chat_completion(self, messages: list[dict[str, str]], stream: bool = False, **kwargs: Any) -> Any:
        self.calls.append({"messages": messages, "stream": stream, **kwargs})
        text = self.answers.pop(0)
        prompt_tokens = sum(len(m["content"].split()) for m in messages)
        if not stream:
            return {
                "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split())},
            }
        return self._stream(text, prompt_tokens)

    def _stream(self, text: str, prompt_tokens: int) -> Iterator[dict[str, Any]]:
        yield {"choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]}
        words = text.split(" ")
        for i, word in enumerate(words):
            yield {"choices": [{"delta": {"content": word if i == 0 else " " + word}, "finish_reason": None}]}
        self.n_tokens = prompt_tokens + len(words)
        yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[tuple[LocalModel, StubLlama]]:
    path = tmp_path / "stub.gguf"
    path.write_bytes(b"GGUF")
    llama = StubLlama([])
    key = (path, 512, None)
    LocalRuntime._cache[key] = LocalRuntime(llama, path, 0.0)
    try:
        yield LocalModel(LocalModelOptions(n_ctx=512, model_path=path, max_tokens=20)), llama
    finally:
        LocalRuntime._cache.pop(key, None)


def _agent(model: LocalModel) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(model, instructions="You are a SOC assistant.")

    @agent.tool_plain
    def host_risk(host: str) -> int:
        """Risk score of a host."""
        return 87

    return agent


def test_prompted_tool_round_trip(stub: tuple[LocalModel, StubLlama]) -> None:
    model, llama = stub
    llama.answers = ['{"tool": "host_risk", "arguments": {"host": "host-7"}}', "Host-7 scores 87."]
    result = asyncio.run(_agent(model).run("How risky is host-7?"))
    assert result.output == "Host-7 scores 87."
    first, second = llama.calls
    system = first["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You are a SOC assistant.")
    assert "- host_risk: Risk score of a host." in system["content"]
    assert first["messages"][1] == {"role": "user", "content": "How risky is host-7?"}
    assert first["repeat_penalty"] == 1.3
    assert first["temperature"] == 0.2
    assert first["max_tokens"] == 20
    assert json.loads(second["messages"][2]["content"]) == {"tool": "host_risk", "arguments": {"host": "host-7"}}
    assert second["messages"][2]["role"] == "assistant"
    assert second["messages"][3] == {"role": "user", "content": "Result of tool host_risk: 87"}
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0


def test_streaming_without_tools(stub: tuple[LocalModel, StubLlama]) -> None:
    model, llama = stub
    llama.answers = ["Three alerts are open."]

    async def run() -> tuple[list[str], Any]:
        async with Agent(model).run_stream("What is open?") as result:
            chunks = [c async for c in result.stream_text(delta=True, debounce_by=None)]
        return chunks, result.usage

    chunks, usage = asyncio.run(run())
    assert "".join(chunks) == "Three alerts are open."
    assert len(chunks) == 4
    assert llama.calls[0]["stream"] is True
    assert usage.output_tokens == 4
    assert usage.input_tokens > 0


def test_streaming_with_tools_emits_the_call(stub: tuple[LocalModel, StubLlama]) -> None:
    model, llama = stub
    llama.answers = ['```json\n{"tool": "host_risk", "arguments": {"host": "h"}}\n```', "Done."]

    async def run() -> str:
        async with _agent(model).run_stream("risk of h?") as result:
            return "".join([c async for c in result.stream_text(delta=True, debounce_by=None)])

    assert asyncio.run(run()) == "Done."
    assert len(llama.calls) == 2


def test_model_settings_override_defaults(stub: tuple[LocalModel, StubLlama]) -> None:
    model, llama = stub
    llama.answers = ["ok"]
    asyncio.run(Agent(model).run("hi", model_settings={"max_tokens": 7, "temperature": 0.0, "seed": 1}))
    call = llama.calls[0]
    assert (call["max_tokens"], call["temperature"], call["seed"]) == (7, 0.0, 1)
    assert call["messages"][0]["content"] == "You are a helpful assistant."


def test_gguf_ships_in_the_package() -> None:
    path = find_gguf()
    assert path.suffix == ".gguf"
    assert path.stat().st_size > 50_000_000


def test_end_to_end_with_smollm2() -> None:
    """The real embedded model through the connector factory and a pydantic-ai Agent."""
    model = build_model(".vigil-local", {"maxTokens": 16, "contextWindow": 512}, {})
    assert isinstance(model, LocalModel)
    agent: Agent[None, str] = Agent(model)
    started = time.perf_counter()
    result = agent.run_sync("Name one colour of the sky.")
    elapsed = time.perf_counter() - started
    assert result.output.strip()
    assert result.usage.input_tokens > 0
    assert 0 < result.usage.output_tokens <= 16
    assert elapsed < 20


def test_a_request_waiting_for_the_busy_model_times_out(stub: tuple[LocalModel, StubLlama]) -> None:
    model, llama = stub
    llama.answers = ["never sent"]
    model.request_timeout_seconds = 0.3
    runtime = model.runtime()
    with runtime.lock:  # another request is generating
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="busy"):
            asyncio.run(Agent(model).run("What is open?"))
        assert time.monotonic() - started < 10
    assert llama.calls == []
    assert runtime.lock.acquire(blocking=False)  # released for the next request
    runtime.lock.release()


class SlowStubLlama(StubLlama):
    """Writes one word every 0.1 s."""

    def _stream(self, text: str, prompt_tokens: int) -> Iterator[dict[str, Any]]:
        for chunk in super()._stream(text, prompt_tokens):
            time.sleep(0.1)
            yield chunk


def test_a_stream_past_the_request_timeout_ends_with_a_timeout(stub: tuple[LocalModel, StubLlama]) -> None:
    model, _ = stub
    slow = SlowStubLlama([" ".join(f"w{i}" for i in range(40))])
    runtime = model.runtime()
    runtime.llama = slow
    model.request_timeout_seconds = 0.5
    received: list[str] = []

    async def run() -> None:
        async with Agent(model).run_stream("count") as result:
            async for chunk in result.stream_text(delta=True, debounce_by=None):
                received.append(chunk)

    with pytest.raises(TimeoutError, match="did not finish"):
        asyncio.run(run())
    assert 0 < len(received) < 40  # some words arrived, then the deadline stopped the rest
    assert runtime.lock.acquire(blocking=False)
    runtime.lock.release()

"""The fake server itself: wire format, scripting, benchmark mode, and running as a process."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx

from vigil.testing.fake_openai import FakeOpenAI, reply, status, tool_call


def _events(body: str) -> list[str]:
    return [line.removeprefix("data: ") for line in body.split("\n\n") if line.startswith("data: ")]


def test_models_endpoint(fake: FakeOpenAI) -> None:
    response = httpx.get(f"{fake.base_url}/models")
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "fake-gpt"


def test_non_stream_wire_format(fake: FakeOpenAI) -> None:
    fake.script(tool_call("get_time", {"tz": "UTC"}, id="call_9"))
    response = httpx.post(f"{fake.base_url}/chat/completions", json={"model": "m", "messages": []})
    document = response.json()
    assert document["object"] == "chat.completion"
    choice = document["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0] == {
        "id": "call_9",
        "type": "function",
        "function": {"name": "get_time", "arguments": '{"tz": "UTC"}'},
    }
    assert (
        document["usage"]["total_tokens"] == document["usage"]["prompt_tokens"] + document["usage"]["completion_tokens"]
    )


def test_stream_wire_format(fake: FakeOpenAI) -> None:
    fake.script(reply("one two three"))
    response = httpx.post(
        f"{fake.base_url}/chat/completions",
        json={"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "one two three"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3


def test_status_with_retry_after(fake: FakeOpenAI) -> None:
    fake.script(status(429, retry_after=2))
    response = httpx.post(f"{fake.base_url}/chat/completions", json={"messages": []})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["type"] == "rate_limit_exceeded"
    # The queue is empty again: the default answer.
    response = httpx.post(f"{fake.base_url}/chat/completions", json={"messages": []})
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the fake model."
    assert len(fake.chat_requests) == 2


def test_benchmark_mode_with_token_delay() -> None:
    with FakeOpenAI(tokens_per_reply=20, token_delay=0.01, record=False) as fake:
        started = time.monotonic()
        response = httpx.post(f"{fake.base_url}/chat/completions", json={"messages": [], "stream": True})
        elapsed = time.monotonic() - started
        chunks = [json.loads(e) for e in _events(response.text)[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        assert text.split() == [f"tok{i}" for i in range(20)]
        assert elapsed >= 0.2
        assert fake.requests == []


def test_runs_as_a_separate_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "vigil.testing.fake_openai", "--port", "0", "--tokens", "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:")
        response = httpx.post(f"{base_url}/chat/completions", json={"messages": []})
        assert response.json()["choices"][0]["message"]["content"] == "tok0 tok1 tok2 tok3 tok4"
    finally:
        process.terminate()
        process.wait(timeout=10)

"""chat/complete end to end: a real Vigil server, a real connector, a scripted provider over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.chat.conftest import CHAT
from tests.support.clients import CONVERSATIONS, fake_llm_connector
from vigil.testing.fake_openai import (
    FakeOpenAI,
    delay,
    disconnect_after,
    malformed_stream,
    reply,
    status,
    tool_call,
)


def ask(client: httpx.Client, connector_id: str, text: str, **body: Any) -> httpx.Response:
    payload = {"connectorId": connector_id, "persist": True, "messages": [{"role": "user", "content": text}], **body}
    return client.post(CHAT, json=payload)


def stream_lines(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def conversation(client: httpx.Client, conversation_id: str) -> dict[str, Any]:
    response = client.get(f"{CONVERSATIONS}/{conversation_id}")
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_non_streamed_turn_creates_a_conversation(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(reply("Phishing usually starts with a lure."), reply("Phishing techniques overview"))
    response = ask(user.client, connector_id, "What are common phishing techniques?")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["connector_id"] == connector_id
    assert body["data"] == "Phishing usually starts with a lure."
    assert body["replacements"] == {} and set(body["trace_data"]) == {"transactionId", "traceId"}
    stored = conversation(user.client, body["conversationId"])
    assert [(m["role"], m["content"]) for m in stored["messages"]] == [
        ("user", "What are common phishing techniques?"),
        ("assistant", "Phishing usually starts with a lure."),
    ]
    assert stored["messages"][1]["traceData"] == body["trace_data"]
    assert stored["apiConfig"]["connectorId"] == connector_id and stored["apiConfig"]["actionTypeId"] == ".gen-ai"
    # What reached the provider: a system prompt, then the question; the API key as a bearer token.
    sent = fake.chat_requests[0]
    roles = [m["role"] for m in sent.body["messages"]]
    assert roles[0] == "system" and sent.body["messages"][-1] == {
        "role": "user",
        "content": "What are common phishing techniques?",
    }
    assert "untrusted" in sent.body["messages"][0]["content"].lower()
    assert sent.headers.get("authorization") == "Bearer sk-test-secret-value"
    assert sent.body["model"] == "fake-gpt"
    # "New chat" gets a generated title, in the background.
    wait_for(lambda: conversation(user.client, body["conversationId"])["title"] != "New chat")
    assert conversation(user.client, body["conversationId"])["title"] == "Phishing techniques overview"


def test_streamed_turn_in_kibanas_wire_format(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(reply("Isolate the host, then collect memory."))
    response = ask(user.client, connector_id, "First step for ransomware?", isStream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/octet-stream")
    lines = stream_lines(response)
    assert lines and all(line["type"] == "content" for line in lines)
    assert len(lines) > 1  # really streamed, token by token
    assert "".join(line["payload"] for line in lines) == "Isolate the host, then collect memory."
    assert fake.chat_requests[0].body["stream"] is True
    found = user.client.get(f"{CONVERSATIONS}/_find").json()["data"]
    assert found[0]["messages"][-1]["content"] == "Isolate the host, then collect memory."


def test_tool_calls_are_run_and_kept(make_user, fake: FakeOpenAI, connector_id: str, settings) -> None:
    user = make_user("editor")
    fake.script(tool_call("current_time", {"timezone": "UTC"}), reply("It is late; the link is above."))
    body = ask(user.client, connector_id, "What time is it, and what is this conversation's link?").json()
    assert body["data"] == "It is late; the link is above."
    second = fake.chat_requests[1].body["messages"]
    tool_message = next(m for m in second if m["role"] == "tool")
    assert "Current time:" in tool_message["content"]
    assert f"/app/vigil/conversations/{body['conversationId']}" in tool_message["content"]
    assert "current_time" in [t["function"]["name"] for t in fake.chat_requests[0].body["tools"]]

    # The next turn replays the tool round, so the model still sees what the tool returned.
    fake.script(reply("Still the same conversation."))
    ask(user.client, connector_id, "And again?", conversationId=body["conversationId"])
    # This turn's own request (it offers tools), not a title request: one is made in the background
    # after the first turn and, when that title is not stored yet, after this turn too.
    replayed = next(
        request.body["messages"]
        for request in reversed(fake.chat_requests)
        if request.body.get("tools") and any("And again?" in str(m.get("content")) for m in request.body["messages"])
    )
    assert any(m["role"] == "tool" and "Current time:" in m["content"] for m in replayed)
    assert [m["content"] for m in replayed if m["role"] == "user"][-2:] == [
        "What time is it, and what is this conversation's link?",
        "And again?",
    ]


def test_continuing_a_conversation_sends_its_history(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    existing = user.create_conversation(
        "Case 42",
        messages=[
            {"role": "user", "content": "host-7 is beaconing", "timestamp": "2024-01-01T00:00:00Z"},
            {"role": "assistant", "content": "Check its DNS logs.", "timestamp": "2024-01-01T00:00:01Z"},
        ],
    )
    fake.script(reply("Then block the domain."))
    body = ask(user.client, connector_id, "DNS shows evil.example", conversationId=existing["id"]).json()
    assert body["conversationId"] == existing["id"]
    sent = [(m["role"], m["content"]) for m in fake.chat_requests[0].body["messages"] if m["role"] != "system"]
    assert sent == [
        ("user", "host-7 is beaconing"),
        ("assistant", "Check its DNS logs."),
        ("user", "DNS shows evil.example"),
    ]
    stored = conversation(user.client, existing["id"])
    assert [m["content"] for m in stored["messages"]][-2:] == ["DNS shows evil.example", "Then block the domain."]
    assert stored["title"] == "Case 42"  # only "New chat" gets a generated title


def test_persist_false_stores_nothing(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(reply("stateless answer"))
    body = ask(user.client, connector_id, "quick question", persist=False).json()
    assert body["data"] == "stateless answer" and "conversationId" not in body
    assert user.client.get(f"{CONVERSATIONS}/_find").json()["total"] == 0


def test_request_history_and_attached_data(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(reply("Summary."))
    alert = {
        "host": {"name": "srv-win-s1-rsa"},
        "process": {"name": "mimikatz.exe"},
        "event": {"category": ["process"]},
    }
    messages = [
        {"role": "user", "content": "earlier question"},
        {"role": "assistant", "content": "earlier answer"},
        {"role": "user", "content": "Summarize this alert", "data": alert, "fields_to_anonymize": ["host.name"]},
    ]
    body = user.client.post(CHAT, json={"connectorId": connector_id, "persist": True, "messages": messages}).json()
    last = fake.chat_requests[0].body["messages"][-1]["content"]
    assert last.startswith('CONTEXT:\n"""\n') and last.endswith("Summarize this alert")
    assert "process.name,mimikatz.exe" in last and "event.category,process" in last
    stored = conversation(user.client, body["conversationId"])
    assert [m["content"] for m in stored["messages"]] == [
        "earlier question",
        "earlier answer",
        "Summarize this alert",
        "Summary.",
    ]


def test_response_language_and_prompt_id(make_user, fake: FakeOpenAI, connector_id: str, admin: httpx.Client) -> None:
    user = make_user("editor")
    prompts = admin.get("/api/security_ai_assistant/prompts/_find", params={"per_page": 100}).json()["data"]
    system_prompt = next(p for p in prompts if p["promptType"] == "system" and not p.get("isNewConversationDefault"))
    fake.script(reply("Bonjour."))
    ask(user.client, connector_id, "Hello", responseLanguage="French", promptId=system_prompt["id"])
    system = fake.chat_requests[0].body["messages"][0]
    assert system["role"] == "system"
    assert system_prompt["content"].strip()[:60] in system["content"]
    assert "Always answer in French." in system["content"]


@pytest.mark.parametrize(
    ("body", "status_code", "fragment"),
    [
        ({"persist": True, "messages": [{"role": "user", "content": "x"}]}, 400, "connectorId"),
        ({"connectorId": "c", "messages": [{"role": "user", "content": "x"}]}, 400, "persist"),
        ({"connectorId": "c", "persist": True, "messages": []}, 400, "messages"),
        ({"connectorId": "c", "persist": True, "messages": [{"role": "robot", "content": "x"}]}, 400, "role"),
        (
            {"connectorId": "no-such-connector", "persist": True, "messages": [{"role": "user", "content": "x"}]},
            404,
            "no-such-connector",
        ),
    ],
)
def test_bad_requests(make_user, body: dict, status_code: int, fragment: str) -> None:
    response = make_user("editor").client.post(CHAT, json=body)
    assert response.status_code == status_code, response.text
    assert response.json()["statusCode"] == status_code and fragment in response.json()["message"]


def test_last_message_must_be_the_users(make_user, connector_id: str) -> None:
    user = make_user("editor")
    response = user.client.post(
        CHAT, json={"connectorId": connector_id, "persist": False, "messages": [{"role": "assistant", "content": "x"}]}
    )
    assert response.status_code == 400 and "last message" in response.json()["message"]


def test_privileges_and_isolation(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    for role in ("viewer", "ingest"):
        response = ask(make_user(role).client, connector_id, "hi")
        assert response.status_code == 403, role
    owner, other = make_user("editor"), make_user("editor")
    fake.script(reply("private answer"))
    conversation_id = ask(owner.client, connector_id, "private question").json()["conversationId"]
    response = ask(other.client, connector_id, "let me in", conversationId=conversation_id)
    assert response.status_code == 404
    # Refused before any model call: nothing of the intruder's turn reached the provider.
    assert all("let me in" not in json.dumps(r.body) for r in fake.chat_requests)


def test_provider_retries_429_then_answers(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(status(429, retry_after=0), reply("after the rate limit"))
    body = ask(user.client, connector_id, "hi", persist=False)
    assert body.status_code == 200 and body.json()["data"] == "after the rate limit"
    assert len(fake.chat_requests) == 2


def _assert_error_stored(user, conversation_id: str, fragment: str) -> None:
    messages = conversation(user.client, conversation_id)["messages"]
    assert messages[-1]["role"] == "assistant" and messages[-1]["isError"] is True
    assert fragment in messages[-1]["content"]
    assert messages[-2]["role"] == "user"  # the question is kept, the conversation intact


@pytest.mark.parametrize(
    ("steps", "status_code", "fragment"),
    [
        ([status(500), status(500)], 502, "server error"),
        ([status(429, retry_after=0), status(429, retry_after=0)], 429, "rate-limiting"),
        ([delay(5), delay(5)], 504, "in time"),
    ],
    ids=["500", "429", "timeout"],
)
def test_provider_faults_non_streamed(
    make_user, fake: FakeOpenAI, connector_id: str, steps, status_code, fragment
) -> None:
    user = make_user("editor")
    fake.script(*steps)
    response = ask(user.client, connector_id, "will this work?")
    assert response.status_code == status_code, response.text
    assert fragment in response.json()["message"]
    conversation_id = user.client.get(f"{CONVERSATIONS}/_find").json()["data"][0]["id"]
    _assert_error_stored(user, conversation_id, fragment)
    # The conversation still works after the failure.
    fake.script(reply("recovered"))
    again = ask(user.client, connector_id, "try again", conversationId=conversation_id)
    assert again.status_code == 200 and again.json()["data"] == "recovered"


@pytest.mark.parametrize(
    ("step", "fragment"),
    [(malformed_stream(), "could not read"), (disconnect_after(3), "")],
    ids=["malformed", "disconnect"],
)
def test_provider_faults_mid_stream(make_user, fake: FakeOpenAI, connector_id: str, step, fragment) -> None:
    user = make_user("editor")
    fake.script(step, step)
    response = ask(user.client, connector_id, "stream please", isStream=True)
    assert response.status_code == 200
    lines = stream_lines(response)
    assert lines[-1]["type"] == "error" and fragment in lines[-1]["payload"]
    conversation_id = user.client.get(f"{CONVERSATIONS}/_find").json()["data"][0]["id"]
    _assert_error_stored(user, conversation_id, lines[-1]["payload"])


def test_client_disconnect_cancels_and_keeps_the_conversation(admin: httpx.Client, make_user) -> None:
    user = make_user("editor")
    with FakeOpenAI(tokens_per_reply=400, token_delay=0.02) as slow:
        slow_connector = fake_llm_connector(admin, slow.base_url, api_key=None, default_model="slow")
        body = {
            "connectorId": slow_connector,
            "persist": True,
            "isStream": True,
            "messages": [{"role": "user", "content": "long answer"}],
        }
        with user.client.stream("POST", CHAT, json=body) as response:
            assert response.status_code == 200
            first = next(response.iter_lines())
            assert json.loads(first)["type"] == "content"
        # The client is gone after one line; the provider stream is cancelled, not read to the end.
        conversation_id = user.client.get(f"{CONVERSATIONS}/_find").json()["data"][0]["id"]
        wait_for(lambda: len(conversation(user.client, conversation_id)["messages"]) == 2)
        _assert_error_stored(user, conversation_id, "disconnected")
        assert len(slow.chat_requests) == 1


def test_swimlane_seed_chat_complete(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    """The Swimlane connector's "complete chat" call as its document describes it, and the fields
    its output mapping reads (connector_id, data, trace_data, replacements, status, conversationId)."""
    user = make_user("editor")
    data = {
        "event.category": "process",
        "process.pid": 4242,
        "host.os.version": 10,
        "host.os.name": "Windows",
        "host.name": "srv-win-s1-rsa",
        "process.name": "svchost.exe",
        "user.name": "jdoe",
        "process.working_directory": "C:\\Windows",
        "event.module": "endpoint",
        "process.executable": "C:\\Windows\\svchost.exe",
        "process.args": "-k netsvcs",
        "message": "Process stopped",
    }
    request = {
        "connectorId": connector_id,
        "persist": False,
        "promptId": "vigil-default-system-prompt",
        "model": "fake-gpt",
        "responseLanguage": "English",
        "messages": [
            {
                "role": "user",
                "content": "Write an incident report",
                "data": data,
                "fields_to_anonymize": ["host.name", "user.name"],
            }
        ],
    }
    fake.script(reply("### Elastic Security Case: process stopped event"), reply("Streamed report."))
    body = user.client.post(CHAT, json=request).json()
    assert set(body) == {"connector_id", "data", "trace_data", "replacements", "status"}
    assert body["status"] == "ok" and body["data"] == "### Elastic Security Case: process stopped event"
    streamed = user.client.post(CHAT, json={**request, "isStream": True})
    assert "".join(line["payload"] for line in stream_lines(streamed)) == "Streamed report."
    for sent in fake.chat_requests:
        last = sent.body["messages"][-1]["content"]
        assert "process.name,svchost.exe" in last and last.endswith("Write an incident report")
        assert sent.body["model"] == "fake-gpt"

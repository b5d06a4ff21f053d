"""`_execute` on an LLM connector: Kibana's invokeAI / run / test sub-actions over a real provider."""

from __future__ import annotations

import json

import httpx

from vigil.testing.fake_openai import FakeOpenAI, reply, status


def execute(client: httpx.Client, connector_id: str, params: dict) -> dict:
    response = client.post(f"/api/actions/connector/{connector_id}/_execute", json={"params": params})
    assert response.status_code == 200, response.text
    return response.json()


def test_invoke_ai(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    editor = make_user("editor")  # connectors read is enough to run one, as in Kibana
    fake.script(reply("pong"))
    result = execute(
        editor.client,
        connector_id,
        {
            "subAction": "invokeAI",
            "subActionParams": {
                "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping"}],
                "temperature": 0,
            },
        },
    )
    assert result["status"] == "ok" and result["connector_id"] == connector_id
    assert result["data"]["message"] == "pong" and result["data"]["usage"]["completion_tokens"] > 0
    sent = fake.chat_requests[0].body
    assert sent["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping"}]
    assert sent["temperature"] == 0


def test_run_with_an_openai_body(admin: httpx.Client, fake: FakeOpenAI, connector_id: str) -> None:
    fake.script(reply("hello"))
    body = json.dumps({"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}]})
    result = execute(admin, connector_id, {"subAction": "test", "subActionParams": {"body": body}})
    assert result["status"] == "ok"
    assert result["data"]["choices"][0]["message"] == {"role": "assistant", "content": "hello"}


def test_errors_are_results_not_failures(admin: httpx.Client, fake: FakeOpenAI, connector_id: str) -> None:
    invalid = execute(admin, connector_id, {"subAction": "invokeAI", "subActionParams": {"messages": []}})
    assert invalid["status"] == "error" and "validating action params" in invalid["message"]
    fake.script(status(500), status(500))
    failed = execute(
        admin,
        connector_id,
        {"subAction": "invokeAI", "subActionParams": {"messages": [{"role": "user", "content": "x"}]}},
    )
    assert failed["status"] == "error" and "server error" in failed["service_message"]
    assert "sk-test-secret-value" not in json.dumps(failed)


def test_viewers_cannot_run_connectors_without_read(make_user, connector_id: str) -> None:
    response = make_user("ingest").client.post(
        f"/api/actions/connector/{connector_id}/_execute", json={"params": {"subAction": "invokeAI"}}
    )
    assert response.status_code == 403

"""The leak harness: realistic alerts go through chat/complete to a recording fake provider, and
no value the policy anonymizes may appear in any byte Vigil sent it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.clients import fake_llm_connector, unique_name
from vigil.anonymization import FieldPolicy, FieldRule
from vigil.anonymization.fields.defaults import DEFAULT_FIELDS
from vigil.testing.alerts import generate_alerts, leaves
from vigil.testing.fake_openai import FakeOpenAI, reply, tool_call

CHAT = "/api/security_ai_assistant/chat/complete"
FIELDS = "/api/security_ai_assistant/anonymization_fields"
EXTRA_ANONYMIZED = ["user.email", "process.command_line"]  # per message, as Kibana's fields_to_anonymize
MIN_FREE_TEXT = 3


def default_policy() -> FieldPolicy:
    rules = [FieldRule(d.field, d.allowed, d.anonymized) for d in DEFAULT_FIELDS]
    return FieldPolicy.from_rules(rules)


def sensitive_values(alert: dict[str, Any], policy: FieldPolicy) -> set[str]:
    return {str(value) for field, value in leaves(alert) if policy.is_anonymized(field)}


def sent_bytes(fake: FakeOpenAI) -> str:
    return "\n".join(json.dumps(r.body, ensure_ascii=False) for r in fake.chat_requests)


def assert_no_leak(fake: FakeOpenAI, values: set[str]) -> None:
    sent = sent_bytes(fake)
    long_values = {v for v in values if len(v) >= MIN_FREE_TEXT}
    leaked = sorted(v for v in long_values if v in sent)
    assert leaked == [], f"{len(leaked)} anonymized values reached the provider, e.g. {leaked[:5]}"
    # Short values are replaced as whole field values (never inside free text): check the fields.
    for short in values - long_values:
        assert f"host.name,{short}\\n" not in sent and f"user.name,{short}\\n" not in sent


@pytest.fixture
def space(admin: httpx.Client) -> Iterator[str]:
    """A space of its own: the tests change its anonymization policy."""
    yield unique_name("leak").lower()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default_text="Noted.") as server:
        yield server


def make_connector(admin: httpx.Client, fake: FakeOpenAI, space: str) -> str:
    return fake_llm_connector(admin, fake.base_url, space=space, api_key=None)


def wait_for_title(client: httpx.Client, space: str, conversation_id: str) -> None:
    url = f"/s/{space}/api/security_ai_assistant/current_user/conversations/{conversation_id}"
    deadline = time.monotonic() + 10
    while client.get(url).json()["title"] == "New chat":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def user_message(alert: dict[str, Any], question: str) -> dict[str, Any]:
    return {"role": "user", "content": question, "data": alert, "fields_to_anonymize": EXTRA_ANONYMIZED}


def test_a_thousand_alerts_leak_nothing(admin: httpx.Client, make_user, fake: FakeOpenAI, space: str) -> None:
    user = make_user("editor")
    connector = make_connector(admin, fake, space)
    alerts = generate_alerts(1000, seed=11)
    policy = default_policy().with_overrides(EXTRA_ANONYMIZED)
    secrets: set[str] = set()
    for start in range(0, len(alerts), 4):
        batch = alerts[start : start + 4]
        messages = []
        for alert in batch:
            # The user's own words repeat the alert's host and user: free text must be covered too.
            question = (
                f"Is {alert['host']['name']} compromised? {alert['user']['name']} says no. See {alert['source']['ip']}."
            )
            messages += [user_message(alert, question), {"role": "assistant", "content": "Looking."}]
            secrets |= sensitive_values(alert, policy)
        body = {"connectorId": connector, "persist": False, "messages": messages[:-1]}
        response = user.client.post(f"/s/{space}{CHAT}", json=body)
        assert response.status_code == 200, response.text
    assert len(fake.chat_requests) == 250
    assert len(secrets) > 2000
    assert_no_leak(fake, secrets)
    # Useful context still reached the model: rule names and process names are allowed.
    assert "Credential Dumping via Mimikatz" in sent_bytes(fake) and "kibana.alert.rule.name" in sent_bytes(fake)


def test_history_replayed_on_later_turns(admin: httpx.Client, make_user, fake: FakeOpenAI, space: str) -> None:
    user = make_user("editor")
    connector = make_connector(admin, fake, space)
    (alert,) = generate_alerts(1, seed=3)
    first = user.client.post(
        f"/s/{space}{CHAT}",
        json={"connectorId": connector, "persist": True, "messages": [user_message(alert, "Triage this")]},
    ).json()
    host, user_name = alert["host"]["name"], alert["user"]["name"]
    assert host in first["replacements"].values() and user_name in first["replacements"].values()
    for question in (f"What else did {user_name} do?", f"And on {host}?"):
        user.client.post(
            f"/s/{space}{CHAT}",
            json={
                "connectorId": connector,
                "persist": True,
                "conversationId": first["conversationId"],
                "messages": [{"role": "user", "content": question}],
            },
        )
    assert len(fake.chat_requests) >= 3
    assert_no_leak(fake, sensitive_values(alert, default_policy().with_overrides(EXTRA_ANONYMIZED)))
    # The same value always has the same placeholder in one conversation.
    stored = user.client.get(
        f"/s/{space}/api/security_ai_assistant/current_user/conversations/{first['conversationId']}"
    )
    replacements = stored.json()["replacements"]
    placeholder = next(p for p, original in replacements.items() if original == host)
    assert all(placeholder in json.dumps(r.body) for r in fake.chat_requests if "Triage this" in json.dumps(r.body))


def test_turns_from_before_a_field_became_anonymized(
    admin: httpx.Client, make_user, fake: FakeOpenAI, space: str
) -> None:
    user = make_user("editor")
    connector = make_connector(admin, fake, space)
    (alert,) = generate_alerts(1, seed=5)
    process = alert["process"]["name"]
    first = user.client.post(
        f"/s/{space}{CHAT}",
        json={
            "connectorId": connector,
            "persist": True,
            "messages": [{"role": "user", "content": "Look", "data": alert}],
        },
    ).json()
    assert f"process.name,{process}" in sent_bytes(fake)  # allowed in clear, by default
    # An admin now anonymizes process.name in this space.
    fields = admin.get(f"/s/{space}{FIELDS}/_find", params={"filter": "field:process.name"}).json()["data"]
    updated = admin.post(
        f"/s/{space}{FIELDS}/_bulk_action",
        json={"update": [{"id": fields[0]["id"], "allowed": True, "anonymized": True}]},
    )
    assert updated.status_code == 200, updated.text
    fake.reset()
    user.client.post(
        f"/s/{space}{CHAT}",
        json={
            "connectorId": connector,
            "persist": True,
            "conversationId": first["conversationId"],
            "messages": [{"role": "user", "content": "Anything new?"}],
        },
    )
    assert process not in sent_bytes(fake)


def test_tool_arguments_and_results(admin: httpx.Client, make_user, fake: FakeOpenAI, space: str) -> None:
    """The model writes a placeholder into a tool call; the tool gets the real value and what it
    returns is anonymized again before the model sees it, in this turn and when it is replayed."""
    user = make_user("editor")
    connector = make_connector(admin, fake, space)
    (alert,) = generate_alerts(1, seed=8)
    host = alert["host"]["name"]
    first = user.client.post(
        f"/s/{space}{CHAT}",
        json={"connectorId": connector, "persist": True, "messages": [user_message(alert, "Triage")]},
    ).json()
    placeholder = next(p for p, original in first["replacements"].items() if original == host)
    wait_for_title(user.client, space, first["conversationId"])  # its model call is not ours to script
    # current_time echoes an unknown time zone back: a tool result holding the real host name.
    fake.script(tool_call("current_time", {"timezone": placeholder}), reply("Done."))
    second = user.client.post(
        f"/s/{space}{CHAT}",
        json={
            "connectorId": connector,
            "persist": True,
            "conversationId": first["conversationId"],
            "messages": [{"role": "user", "content": "What time is it there?"}],
        },
    )
    assert second.status_code == 200
    tool_messages = [m for r in fake.chat_requests for m in r.body["messages"] if m["role"] == "tool"]
    assert tool_messages and "Unknown time zone" in tool_messages[0]["content"]
    assert placeholder in tool_messages[0]["content"]
    user.client.post(
        f"/s/{space}{CHAT}",
        json={
            "connectorId": connector,
            "persist": True,
            "conversationId": first["conversationId"],
            "messages": [{"role": "user", "content": "Thanks"}],
        },
    )
    assert host not in sent_bytes(fake)


def test_one_letter_host_names_do_not_eat_free_text(
    admin: httpx.Client, make_user, fake: FakeOpenAI, space: str
) -> None:
    user = make_user("editor")
    connector = make_connector(admin, fake, space)
    alert = {"host": {"name": "a"}, "user": {"name": "zed"}}
    question = "a cat sat on a mat; is zed involved?"
    message = {"role": "user", "content": question, "data": alert}
    user.client.post(f"/s/{space}{CHAT}", json={"connectorId": connector, "persist": False, "messages": [message]})
    sent = sent_bytes(fake)
    assert "host.name,a\\n" not in sent and "host.name," in sent  # the field is sent, as a placeholder
    assert "a cat sat on a mat; is " in sent and "zed" not in sent


def test_answers_keep_placeholders_and_can_be_shown_with_real_values(
    admin: httpx.Client, make_user, fake: FakeOpenAI, space: str
) -> None:
    user, outsider = make_user("editor"), make_user("editor")
    connector = make_connector(admin, fake, space)
    (alert,) = generate_alerts(1, seed=21)
    host = alert["host"]["name"]
    first = user.client.post(
        f"/s/{space}{CHAT}",
        json={"connectorId": connector, "persist": True, "messages": [user_message(alert, "Triage")]},
    ).json()
    placeholder = next(p for p, original in first["replacements"].items() if original == host)
    wait_for_title(user.client, space, first["conversationId"])
    fake.script(reply(f"Isolate {placeholder} now."))
    user.client.post(
        f"/s/{space}{CHAT}",
        json={
            "connectorId": connector,
            "persist": True,
            "conversationId": first["conversationId"],
            "messages": [{"role": "user", "content": "What first?"}],
        },
    )
    url = f"/s/{space}/api/security_ai_assistant/current_user/conversations/{first['conversationId']}"
    stored = user.client.get(url).json()
    assert stored["messages"][-1]["content"] == f"Isolate {placeholder} now."  # as stored, like Kibana
    shown = user.client.get(url, params={"deanonymize": "true"}).json()
    assert shown["messages"][-1]["content"] == f"Isolate {host} now."
    assert outsider.client.get(url, params={"deanonymize": "true"}).status_code == 404

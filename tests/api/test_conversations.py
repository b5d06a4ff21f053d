"""The Conversations API, field by field and error by error, as Kibana's clients use it."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.support.clients import CONVERSATIONS, unique_name
from vigil.settings import Settings

KIBANA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
INTERNAL = "/internal/elastic_assistant/current_user/conversations"


def message(content: str, role: str = "user", **extra: object) -> dict:
    return {"content": content, "role": role, "timestamp": "2024-09-06T08:01:14.586Z", **extra}


def test_create_returns_the_kibana_shape(make_user) -> None:
    user = make_user("editor")
    body = {
        "title": "Security Discussion",
        "category": "assistant",
        "messages": [
            message("Hello", "system"),
            message("Why is host-1 beaconing?", traceData={"traceId": "t1", "transactionId": "x1"}),
            message(
                "Boom",
                "assistant",
                isError=True,
                metadata={"contentReferences": {"abc": {"id": "abc", "type": "SecurityAlert", "alertId": "alert-1"}}},
            ),
        ],
        "apiConfig": {
            "connectorId": "12345",
            "actionTypeId": ".gen-ai",
            "defaultSystemPromptId": "default",
            "provider": "OpenAI",
            "model": "gpt-4o",
        },
        "replacements": {"0b7a1f3e": "host-1"},
        "excludeFromLastConversationStorage": False,
        "isDefault": False,
    }
    created = user.client.post(CONVERSATIONS, json=body)
    assert created.status_code == 200, created.text
    conversation = created.json()
    assert re.fullmatch(r"[0-9a-f-]{36}", conversation["id"])
    assert conversation["title"] == "Security Discussion"
    assert conversation["category"] == "assistant"
    assert conversation["namespace"] == "default"
    assert conversation["messages"] == body["messages"]
    assert conversation["apiConfig"] == body["apiConfig"]
    assert conversation["replacements"] == {"0b7a1f3e": "host-1"}
    assert conversation["excludeFromLastConversationStorage"] is False
    assert conversation["isDefault"] is False
    for key in ("createdAt", "updatedAt", "timestamp"):
        assert KIBANA_TIME.match(conversation[key]), conversation[key]
    me = user.client.get("/_security/_authenticate").json()
    assert conversation["users"] == [{"id": conversation["createdBy"]["id"], "name": user.username}]
    assert conversation["createdBy"]["name"] == me["username"]
    assert user.client.get(f"{CONVERSATIONS}/{conversation['id']}").json() == conversation


def test_swimlane_seed_create_and_get(make_user) -> None:
    """The Swimlane connector's create/get/update/delete calls, as its document shows them."""
    user = make_user("editor")
    created = user.client.post(
        CONVERSATIONS,
        json={
            "title": "the conversation title ",
            "category": "assistant",
            "excludeFromLastConversationStorage": True,
            "messages": [],
        },
    )
    assert created.status_code == 200
    c = created.json()
    expected_keys = {
        "id",
        "title",
        "category",
        "timestamp",
        "updatedAt",
        "createdAt",
        "replacements",
        "users",
        "messages",
        "isDefault",
        "excludeFromLastConversationStorage",
        "namespace",
    }
    assert expected_keys <= set(c)
    assert (c["replacements"], c["messages"], c["isDefault"], c["namespace"]) == ({}, [], False, "default")
    updated = user.client.put(
        f"{CONVERSATIONS}/{c['id']}",
        json={
            "id": c["id"],
            "title": "renamed",
            "messages": [message("content", "user", isError=False)],
            "apiConfig": {
                "actionTypeId": ".gen-ai",
                "connectorId": "my-gpt4o-ai",
                "defaultSystemPromptId": "x",
                "model": "gpt-4o",
            },
        },
    )
    assert updated.status_code == 200
    assert updated.json()["title"] == "renamed"
    found = user.client.get(f"{CONVERSATIONS}/_find", params={"page": 1, "per_page": 10}).json()
    assert (found["page"], found["perPage"], found["total"]) == (1, 10, 1)
    deleted = user.client.delete(f"{CONVERSATIONS}/{c['id']}")
    assert deleted.status_code == 200 and deleted.json() == {}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "[request body]: title: Required"),
        ({"title": 5}, "title"),
        ({"title": "t", "category": "chitchat"}, "category"),
        ({"title": "t", "messages": [{"role": "user", "timestamp": "x"}]}, "messages.0.content: Required"),
        (
            {"title": "t", "messages": [{"role": "robot", "content": "c", "timestamp": "x"}]},
            "messages.0.role",
        ),
        (
            {"title": "t", "messages": [{"role": "user", "content": "c", "timestamp": " "}]},
            "messages.0.timestamp",
        ),
        ({"title": "t", "apiConfig": {"connectorId": "c"}}, "apiConfig.actionTypeId: Required"),
        ({"title": "t", "replacements": {"a": 1}}, "replacements.a"),
    ],
)
def test_create_validation_errors_name_the_field(admin: httpx.Client, body: dict, fragment: str) -> None:
    response = admin.post(CONVERSATIONS, json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert fragment in error["message"]


def test_create_with_client_id_and_conflict(make_user) -> None:
    user = make_user("editor")
    first = user.client.post(CONVERSATIONS, json={"id": "my-fixed-id-" + user.username, "title": "t"})
    assert first.status_code == 200 and first.json()["id"] == "my-fixed-id-" + user.username
    second = user.client.post(CONVERSATIONS, json={"id": "my-fixed-id-" + user.username, "title": "t"})
    assert second.status_code == 409 and second.json()["statusCode"] == 409


def test_get_unknown_is_404(admin: httpx.Client) -> None:
    response = admin.get(f"{CONVERSATIONS}/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": 'conversation id: "does-not-exist" not found',
    }


def test_update_fields_and_timestamps(make_user) -> None:
    user = make_user("editor")
    c = user.create_conversation("New chat", messages=[message("one"), message("two")])
    assert c["title"] == "New chat"
    updated = user.client.put(
        f"{CONVERSATIONS}/{c['id']}",
        json={
            "category": "insights",
            "replacements": {"k": "v"},
            "summary": {
                "content": "sum",
                "public": True,
                "confidence": "high",
                "timestamp": "2024-01-01T00:00:00Z",
            },
            "excludeFromLastConversationStorage": True,
        },
    ).json()
    assert updated["title"] == "New chat"  # untouched fields stay
    assert [m["content"] for m in updated["messages"]] == ["one", "two"]
    assert updated["category"] == "insights"
    assert updated["replacements"] == {"k": "v"}
    assert updated["summary"]["confidence"] == "high"
    assert updated["updatedAt"] >= c["updatedAt"] and updated["createdAt"] == c["createdAt"]
    replaced = user.client.put(f"{CONVERSATIONS}/{c['id']}", json={"messages": [message("only")]}).json()
    assert [m["content"] for m in replaced["messages"]] == ["only"]


def test_update_validation_and_missing(admin: httpx.Client) -> None:
    c = admin.post(CONVERSATIONS, json={"title": "t"}).json()
    bad = admin.put(f"{CONVERSATIONS}/{c['id']}", json={"category": "nope"})
    assert bad.status_code == 400 and "category" in bad.json()["message"]
    assert admin.put(f"{CONVERSATIONS}/missing-id", json={"title": "x"}).status_code == 404


def test_append_messages(make_user) -> None:
    user = make_user("editor")
    c = user.create_conversation(messages=[message("first")])
    url = f"{INTERNAL}/{c['id']}/messages"
    appended = user.client.post(
        url,
        json={"messages": [message("second"), message("third", "assistant")]},
        headers={"elastic-api-version": "1"},
    )
    assert appended.status_code == 200
    assert [m["content"] for m in appended.json()["messages"]] == ["first", "second", "third"]
    empty = user.client.post(url, json={"messages": []}, headers={"elastic-api-version": "1"})
    assert empty.status_code == 400


def test_delete_and_default_conversations(make_user) -> None:
    user = make_user("editor")
    regular = user.create_conversation("regular")
    default = user.create_conversation("Welcome", isDefault=True)
    assert user.client.delete(f"{CONVERSATIONS}/{regular['id']}").json() == {}
    assert user.client.get(f"{CONVERSATIONS}/{regular['id']}").status_code == 404
    refused = user.client.delete(f"{CONVERSATIONS}/{default['id']}")
    assert refused.status_code == 400
    assert "default conversation" in refused.json()["message"]
    assert user.client.delete(f"{CONVERSATIONS}/{regular['id']}").status_code == 404


def test_delete_all_keeps_excluded_and_default(make_user) -> None:
    user, other = make_user("editor"), make_user("editor")
    keep = user.create_conversation("keep")
    user.create_conversation("go 1")
    user.create_conversation("go 2")
    default = user.create_conversation("default", isDefault=True)
    others = other.create_conversation("not mine")
    result = user.client.request("DELETE", CONVERSATIONS, json={"excludedIds": [keep["id"]]})
    assert result.status_code == 200
    assert result.json() == {"success": True, "totalDeleted": 2, "failures": []}
    remaining = {c["id"] for c in user.client.get(f"{CONVERSATIONS}/_find").json()["data"]}
    assert remaining == {keep["id"], default["id"]}
    assert other.client.get(f"{CONVERSATIONS}/{others['id']}").status_code == 200


def test_users_never_see_each_others_private_conversations(make_user) -> None:
    alice, bob = make_user("editor"), make_user("editor")
    secret = alice.create_conversation("alice's secret", messages=[message("password is hunter2")])
    assert bob.client.get(f"{CONVERSATIONS}/{secret['id']}").status_code == 404
    assert bob.client.put(f"{CONVERSATIONS}/{secret['id']}", json={"title": "pwned"}).status_code == 404
    assert bob.client.delete(f"{CONVERSATIONS}/{secret['id']}").status_code == 404
    assert (
        bob.client.post(
            f"{INTERNAL}/{secret['id']}/messages",
            json={"messages": [message("x")]},
            headers={"elastic-api-version": "1"},
        ).status_code
        == 404
    )
    assert bob.client.post(f"{CONVERSATIONS}/{secret['id']}/_duplicate").status_code == 404
    assert bob.client.get(f"{CONVERSATIONS}/_find").json()["total"] == 0
    assert bob.client.get(f"{CONVERSATIONS}/_find", params={"filter": "title:*secret*"}).json()["total"] == 0
    bulk = bob.client.post(
        f"{INTERNAL}/_bulk_action",
        json={"delete": {"ids": [secret["id"]]}, "update": [{"id": secret["id"], "title": "x"}]},
        headers={"elastic-api-version": "1"},
    ).json()
    assert bulk["attributes"]["results"]["deleted"] == []
    assert bulk["attributes"]["summary"]["failed"] == 2
    assert {e["status_code"] for e in bulk["attributes"]["errors"]} == {404}
    assert alice.client.get(f"{CONVERSATIONS}/{secret['id']}").json()["title"] == "alice's secret"


def _audit_events(settings: Settings, conversation_id: str) -> list[dict]:
    lines = settings.resolved_audit_log.read_text().splitlines()
    return [e for e in map(json.loads, lines) if conversation_id in e["message"]]


def test_sharing_shared_restricted_private(make_user, settings: Settings) -> None:
    owner, teammate, outsider = make_user("editor"), make_user("editor"), make_user("editor")
    # Space-wide sharing would leak into other tests' listings: this test has a space of its own.
    space = unique_name("space").lower()
    for user in (owner, teammate, outsider):
        user.client.base_url = user.client.base_url.join(f"/s/{space}")
    c = owner.create_conversation("Getting Started with Elastic Security")
    # Shared with the whole space: everyone reads, nobody else writes.
    shared = owner.client.put(f"{CONVERSATIONS}/{c['id']}", json={"users": []})
    assert shared.status_code == 200 and shared.json()["users"] == []
    assert teammate.client.get(f"{CONVERSATIONS}/{c['id']}").status_code == 200
    assert c["id"] in {x["id"] for x in teammate.client.get(f"{CONVERSATIONS}/_find").json()["data"]}
    assert c["id"] not in {
        x["id"] for x in teammate.client.get(f"{CONVERSATIONS}/_find", params={"is_owner": "true"}).json()["data"]
    }
    forbidden = teammate.client.put(f"{CONVERSATIONS}/{c['id']}", json={"title": "hijack"})
    assert forbidden.status_code == 403
    assert teammate.client.delete(f"{CONVERSATIONS}/{c['id']}").status_code == 403
    # ... but may duplicate it and continue in their own copy.
    copy = teammate.client.post(f"{CONVERSATIONS}/{c['id']}/_duplicate")
    assert copy.status_code == 200
    assert copy.json()["createdBy"]["name"] == teammate.username and copy.json()["id"] != c["id"]
    assert copy.json()["title"].startswith("Getting Started")

    # Restricted to one teammate.
    teammate_id = teammate.client.get("/_security/_authenticate")  # ids come from conversations' users
    mate = copy.json()["createdBy"]
    restricted = owner.client.put(f"{CONVERSATIONS}/{c['id']}", json={"users": [c["createdBy"], mate]})
    assert restricted.status_code == 200 and teammate_id.status_code == 200
    assert teammate.client.get(f"{CONVERSATIONS}/{c['id']}").status_code == 200
    assert outsider.client.get(f"{CONVERSATIONS}/{c['id']}").status_code == 404
    # `_find` lists it for the teammate (the listed branch), not for the outsider; the owner sees
    # it once, though the owner's own entry is in the list too.
    found = teammate.client.get(f"{CONVERSATIONS}/_find").json()
    assert c["id"] in {x["id"] for x in found["data"]} and found["total"] == 2  # with their copy
    assert outsider.client.get(f"{CONVERSATIONS}/_find").json()["total"] == 0
    mine = owner.client.get(f"{CONVERSATIONS}/_find").json()
    assert [x["id"] for x in mine["data"]] == [c["id"]] and mine["total"] == 1

    # Private again.
    owner.client.put(f"{CONVERSATIONS}/{c['id']}", json={"users": [c["createdBy"]]})
    assert teammate.client.get(f"{CONVERSATIONS}/{c['id']}").status_code == 404

    actions = [e["event"]["action"] for e in _audit_events(settings, c["id"])]
    assert actions == [
        "security_assistant_conversation_shared",
        "security_assistant_conversation_restricted",
        "security_assistant_conversation_private",
    ]
    event = _audit_events(settings, c["id"])[0]
    assert event["message"] == (
        f'User has shared conversation [id={c["id"]}, title="Getting Started with '
        'Elastic Security"] to all users in the space'
    )
    assert event["event"]["category"] == ["database"] and event["event"]["type"] == ["change"]
    assert event["user"]["name"] == owner.username and event["kibana"]["space_id"] == space
    assert f"name={teammate.username}" in _audit_events(settings, c["id"])[1]["message"]


def test_sharing_by_name_only(make_user) -> None:
    owner, teammate = make_user("editor"), make_user("editor")
    c = owner.create_conversation("by name")
    owner.client.put(f"{CONVERSATIONS}/{c['id']}", json={"users": [c["createdBy"], {"name": teammate.username}]})
    assert teammate.client.get(f"{CONVERSATIONS}/{c['id']}").status_code == 200
    assert c["id"] in {x["id"] for x in teammate.client.get(f"{CONVERSATIONS}/_find").json()["data"]}
    bad = owner.client.put(f"{CONVERSATIONS}/{c['id']}", json={"users": [{}]})
    assert bad.status_code == 400


def test_assistant_privileges(make_user) -> None:
    ingest, viewer, editor = make_user("ingest"), make_user("viewer"), make_user("editor")
    space = unique_name("space").lower()
    for user in (ingest, viewer, editor):
        user.client.base_url = user.client.base_url.join(f"/s/{space}")
    c = editor.create_conversation("shared for viewer")
    editor.client.put(f"{CONVERSATIONS}/{c['id']}", json={"users": []})
    routes = [
        ("GET", f"{CONVERSATIONS}/_find", None),
        ("GET", f"{CONVERSATIONS}/{c['id']}", None),
        ("POST", CONVERSATIONS, {"title": "x"}),
        ("PUT", f"{CONVERSATIONS}/{c['id']}", {"title": "x"}),
        ("DELETE", f"{CONVERSATIONS}/{c['id']}", None),
        ("DELETE", CONVERSATIONS, None),
        ("POST", f"{CONVERSATIONS}/{c['id']}/_duplicate", None),
        ("POST", f"{INTERNAL}/{c['id']}/messages", {"messages": [message("x")]}),
        ("POST", f"{INTERNAL}/_bulk_action", {"create": [{"title": "x"}]}),
    ]
    for method, url, body in routes:
        headers = {"elastic-api-version": "1"} if url.startswith("/internal") else {}
        response = ingest.client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, url)
        assert "elasticAssistant" in response.json()["message"]
        viewed = viewer.client.request(method, url, json=body, headers=headers)
        assert viewed.status_code == (200 if method == "GET" else 403), (method, url, viewed.text)


def test_find_paging_and_sorting(make_user) -> None:
    user = make_user("editor")
    titles = ["delta", "alpha", "charlie", "echo", "bravo"]
    ids = [user.create_conversation(t)["id"] for t in titles]
    page1 = user.client.get(
        f"{CONVERSATIONS}/_find", params={"per_page": 2, "sort_field": "title", "sort_order": "asc"}
    ).json()
    assert (page1["page"], page1["perPage"], page1["total"]) == (1, 2, 5)
    assert [c["title"] for c in page1["data"]] == ["alpha", "bravo"]
    page3 = user.client.get(
        f"{CONVERSATIONS}/_find",
        params={"per_page": 2, "page": 3, "sort_field": "title", "sort_order": "asc"},
    ).json()
    assert [c["title"] for c in page3["data"]] == ["echo"]
    newest_first = user.client.get(
        f"{CONVERSATIONS}/_find", params={"sort_field": "created_at", "sort_order": "desc"}
    ).json()
    assert [c["id"] for c in newest_first["data"]] == list(reversed(ids))
    only_count = user.client.get(f"{CONVERSATIONS}/_find", params={"per_page": 0}).json()
    assert only_count["total"] == 5 and only_count["data"] == []
    default = user.client.get(f"{CONVERSATIONS}/_find").json()
    assert default["perPage"] == 20 and default["page"] == 1


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"page": 0}, "page"),
        ({"per_page": -1}, "per_page"),
        ({"sort_field": "messages"}, "sort_field"),
        ({"sort_order": "up"}, "sort_order"),
        ({"page": 1000, "per_page": 100}, "Result window is too large"),
        ({"filter": "title:(alpha"}, "Invalid filter"),
        ({"filter": "nosuchfield:1"}, "nosuchfield"),
        ({"is_owner": "maybe"}, "is_owner"),
    ],
)
def test_find_rejects_bad_parameters(admin: httpx.Client, params: dict, fragment: str) -> None:
    response = admin.get(f"{CONVERSATIONS}/_find", params=params)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["message"]


def test_find_filter_in_kql(make_user) -> None:
    user = make_user("editor")
    a = user.create_conversation(
        "Ransomware on host-7", category="insights", messages=[message("mimikatz seen", "user")]
    )
    b = user.create_conversation("Phishing triage", apiConfig={"connectorId": "gpt", "actionTypeId": ".gen-ai"})
    c = user.create_conversation("New chat", isDefault=True)

    def ids(kql: str) -> set[str]:
        response = user.client.get(f"{CONVERSATIONS}/_find", params={"filter": kql})
        assert response.status_code == 200, response.text
        return {x["id"] for x in response.json()["data"]}

    assert ids("title:ransomware") == {a["id"]}
    assert ids('title:"phishing triage"') == {b["id"]}
    assert ids("category:insights") == {a["id"]}
    assert ids("is_default:true") == {c["id"]}
    assert ids("not is_default:true") == {a["id"], b["id"]}
    assert ids("category:(insights or assistant) and not title:phishing") == {a["id"], c["id"]}
    assert ids("api_config.connector_id:gpt") == {b["id"]}
    assert ids(f'users:{{ name: "{user.username}" }}') == {a["id"], b["id"], c["id"]}
    assert ids('messages:{ content: "mimikatz" }') == {a["id"]}
    assert ids("created_at >= now-1h") == {a["id"], b["id"], c["id"]}
    assert ids("updated_at < 2000-01-01") == set()
    assert ids("id:*") == {a["id"], b["id"], c["id"]}


def test_find_fields_selects_what_is_returned(make_user) -> None:
    user = make_user("editor")
    user.create_conversation("t", messages=[message("m")], apiConfig={"connectorId": "c", "actionTypeId": "a"})
    data = user.client.get(f"{CONVERSATIONS}/_find", params={"fields": "title,updated_at"}).json()["data"][0]
    assert "updatedAt" in data and "messages" not in data and "apiConfig" not in data
    assert {"id", "title", "createdAt", "users", "namespace", "category"} <= set(data)
    with_messages = user.client.get(f"{CONVERSATIONS}/_find", params=[("fields", "messages"), ("fields", "id")])
    assert with_messages.json()["data"][0]["messages"][0]["content"] == "m"


def test_bulk_action(make_user) -> None:
    user = make_user("editor")
    headers = {"elastic-api-version": "1"}
    doomed = user.create_conversation("doomed")
    kept = user.create_conversation("kept")
    response = user.client.post(
        f"{INTERNAL}/_bulk_action",
        headers=headers,
        json={
            "create": [{"title": "bulk one"}, {"title": "bulk two", "category": "insights"}],
            "update": [{"id": kept["id"], "title": "kept and renamed"}, {"id": "ghost", "title": "nobody"}],
            "delete": {"query": "title:doomed"},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["attributes"]["results"]
    assert [c["title"] for c in results["created"]] == ["bulk one", "bulk two"]
    assert [c["title"] for c in results["updated"]] == ["kept and renamed"]
    assert results["deleted"] == [doomed["id"]]
    assert body["attributes"]["summary"] == {"failed": 1, "skipped": 0, "succeeded": 4, "total": 5}
    assert body["attributes"]["errors"][0]["conversations"] == [{"id": "ghost", "name": "nobody"}]
    assert body["attributes"]["errors"][0]["status_code"] == 404
    assert body["success"] is False
    bad = user.client.post(f"{INTERNAL}/_bulk_action", headers=headers, json={"delete": {"ids": []}})
    assert bad.status_code == 400
    # An empty delete must not mean "everything I own".
    empty = user.client.post(f"{INTERNAL}/_bulk_action", headers=headers, json={"delete": {}})
    assert empty.status_code == 400 and "query" in empty.json()["message"]
    assert user.client.get(f"{CONVERSATIONS}/{kept['id']}").status_code == 200
    unknown = user.client.post(f"{INTERNAL}/_bulk_action", headers=headers, json={"delete": {"ids": ["nope"]}})
    assert unknown.json()["attributes"]["errors"][0]["conversations"] == [{"id": "nope"}]

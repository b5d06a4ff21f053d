"""Kibana's knowledge base entries API over HTTP: create, read, update, delete, `_find`, `_bulk_action`,
with who may see and change what."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.knowledge_base.conftest import ENTRIES, document, in_space
from tests.support import clients


def create(client: httpx.Client, space: str, body: dict[str, object]) -> httpx.Response:
    return client.post(in_space(space, ENTRIES), json=body)


def test_create_read_update_delete_a_private_document_entry(
    make_user: Callable[..., clients.TestUser], space: str
) -> None:
    alice = make_user("editor")
    created = create(alice.client, space, document("VPN runbook", "Reset the VPN token in the admin portal.")).json()
    assert created["type"] == "document"
    assert created["name"] == "VPN runbook"
    assert created["kbResource"] == "user"
    assert created["required"] is False
    assert created["global"] is False
    assert created["users"] == [{"id": created["users"][0]["id"], "name": alice.username}]
    assert created["namespace"] == space
    assert created["createdBy"] == alice.username and created["createdAt"].endswith("Z")

    url = in_space(space, f"{ENTRIES}/{created['id']}")
    assert alice.client.get(url).json() == created

    body = document("VPN runbook", "Reset the VPN token in the admin portal, then restart the client.", required=True)
    updated = alice.client.put(url, json=body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["text"].endswith("restart the client.")
    assert updated.json()["required"] is True
    assert updated.json()["createdAt"] == created["createdAt"]

    deleted = alice.client.delete(url)
    assert deleted.status_code == 200
    assert deleted.json() == {"id": created["id"]}
    missing = alice.client.get(url)
    assert missing.status_code == 404
    assert missing.json()["statusCode"] == 404


def test_private_entries_are_invisible_to_other_users(make_user: Callable[..., clients.TestUser], space: str) -> None:
    alice, bob = make_user("editor"), make_user("editor")
    entry = create(alice.client, space, document("Alice's note", "my favourite SIEM query")).json()
    url = in_space(space, f"{ENTRIES}/{entry['id']}")
    assert bob.client.get(url).status_code == 404
    assert bob.client.put(url, json=document("taken over", "x")).status_code == 404
    assert bob.client.delete(url).status_code == 404
    assert bob.client.get(in_space(space, f"{ENTRIES}/_find")).json()["total"] == 0
    assert alice.client.get(in_space(space, f"{ENTRIES}/_find")).json()["total"] == 1
    # The same id in another space does not exist either.
    assert alice.client.get(in_space(space + "-other", f"{ENTRIES}/{entry['id']}")).status_code == 404


def test_global_entries_need_the_customize_privilege(
    make_user: Callable[..., clients.TestUser], admin: httpx.Client, space: str
) -> None:
    editor = make_user("editor")
    policy = "Escalate P1 within 15 minutes."
    refused = create(editor.client, space, document("Team policy", policy, **{"global": True}))
    assert refused.status_code == 403
    assert "customize" in refused.json()["message"]
    also_refused = create(editor.client, space, document("Team policy", "x", users=[]))
    assert also_refused.status_code == 403

    shared = create(admin, space, document("Team policy", "Escalate P1 within 15 minutes.", users=[]))
    assert shared.status_code == 200, shared.text
    assert shared.json()["global"] is True and shared.json()["users"] == []
    url = in_space(space, f"{ENTRIES}/{shared.json()['id']}")
    # Everyone in the space reads it; only a customizer changes or deletes it.
    assert editor.client.get(url).status_code == 200
    assert editor.client.put(url, json=document("Team policy", "changed")).status_code == 403
    assert editor.client.delete(url).status_code == 403
    # Making a private entry global is a change of sharing: also refused to an editor.
    own = create(editor.client, space, document("Mine", "private")).json()
    own_url = in_space(space, f"{ENTRIES}/{own['id']}")
    assert editor.client.put(own_url, json=document("Mine", "private", **{"global": True})).status_code == 403
    assert admin.delete(url).status_code == 200


def test_viewers_read_but_do_not_write(make_user: Callable[..., clients.TestUser], space: str) -> None:
    viewer = make_user("viewer")
    assert viewer.client.get(in_space(space, f"{ENTRIES}/_find")).status_code == 200
    refused = create(viewer.client, space, document("n", "t"))
    assert refused.status_code == 403
    assert refused.json()["error"] == "Forbidden"


def test_index_entries_round_trip(make_user: Callable[..., clients.TestUser], space: str) -> None:
    user = make_user("editor")
    body = {
        "type": "index",
        "name": "Threat intel",
        "index": "threat-intel-*",
        "field": "indicator.description",
        "description": "Search when the user asks whether an IP or domain is a known indicator.",
        "queryDescription": "The IP address or domain to look up",
        "inputSchema": [{"fieldName": "indicator.type", "fieldType": "keyword", "description": "ip or domain"}],
        "outputFields": ["indicator.value", "indicator.confidence"],
    }
    created = create(user.client, space, body)
    assert created.status_code == 200, created.text
    entry = created.json()
    assert {k: entry[k] for k in body} == body
    assert "text" not in entry


def test_invalid_bodies_are_refused_with_kibana_errors(make_user: Callable[..., clients.TestUser], space: str) -> None:
    user = make_user("editor")
    for body in (
        {"type": "document", "name": "n", "kbResource": "user", "source": "s"},  # no text
        {"type": "document", "name": " ", "kbResource": "user", "source": "s", "text": "t"},  # blank name
        {"type": "document", "name": "n", "kbResource": "nope", "source": "s", "text": "t"},  # unknown resource
        {"type": "wiki", "name": "n"},  # unknown type
        {"type": "document", "name": "n", "kbResource": "user", "source": "s", "text": "bad\u0000text"},
    ):
        response = create(user.client, space, body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["statusCode"] == 400


def test_built_in_entries_are_readable_and_read_only(make_user: Callable[..., clients.TestUser], space: str) -> None:
    user = make_user("editor")
    url = in_space(space, f"{ENTRIES}/attack-T1059.001")
    entry = user.client.get(url)
    assert entry.status_code == 200, entry.text
    body = entry.json()
    assert body["name"] == "T1059.001 PowerShell"
    assert body["kbResource"] == "security_labs"
    assert body["source"].startswith("MITRE ATT&CK Enterprise v18.1")
    assert body["url"] == "https://attack.mitre.org/techniques/T1059/001"
    assert body["global"] is True and body["namespace"] == space
    assert user.client.put(url, json=document("mine now", "x")).status_code == 403
    assert user.client.delete(url).status_code == 403
    assert user.client.get(in_space(space, f"{ENTRIES}/esql-stats-by-command")).json()["kbResource"] == "esql"


def test_find_pages_sorts_filters_and_selects_fields(make_user: Callable[..., clients.TestUser], space: str) -> None:
    user = make_user("editor")
    names = ["delta", "alpha", "charlie", "bravo", "echo"]
    for name in names:
        create(user.client, space, document(name, f"note {name}", required=name in ("alpha", "echo")))
    find = in_space(space, f"{ENTRIES}/_find")

    page = user.client.get(find, params={"sort_field": "title", "sort_order": "asc", "per_page": 2, "page": 2}).json()
    assert page["total"] == 5 and page["page"] == 2 and page["perPage"] == 2
    assert [e["name"] for e in page["data"]] == ["charlie", "delta"]

    required = user.client.get(find, params={"filter": "required:true", "sort_field": "title"}).json()
    assert [e["name"] for e in required["data"]] == ["echo", "alpha"]  # default order desc

    kql_filter = {"filter": 'name:"bravo" or text:echo', "sort_order": "asc", "sort_field": "name"}
    kql = user.client.get(find, params=kql_filter)
    assert [e["name"] for e in kql.json()["data"]] == ["bravo", "echo"]

    selected = user.client.get(find, params={"fields": "name,required", "filter": "name:alpha"}).json()["data"]
    assert selected == [{"id": selected[0]["id"], "type": "document", "name": "alpha", "required": True}]

    bad = user.client.get(find, params={"filter": "name:(unclosed"})
    assert bad.status_code == 400
    assert "Invalid filter query parameter" in bad.json()["message"]
    assert user.client.get(find, params={"page": 1000, "per_page": 100}).status_code == 400


def test_bulk_action_creates_updates_and_deletes(make_user: Callable[..., clients.TestUser], space: str) -> None:
    user = make_user("editor")
    bulk = in_space(space, f"{ENTRIES}/_bulk_action")
    first = user.client.post(bulk, json={"create": [document("one", "first"), document("two", "second")]})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["success"] is True and body["statusCode"] == 200 and body["knowledgeBaseEntriesCount"] == 2
    one, two = body["attributes"]["results"]["created"]

    second = user.client.post(
        bulk,
        json={
            "update": [{**document("one", "first, revised"), "id": one["id"]}],
            "delete": {"ids": [two["id"], "no-such-entry", "attack-T1003"]},
        },
    ).json()
    assert second["success"] is False
    assert [e["text"] for e in second["attributes"]["results"]["updated"]] == ["first, revised"]
    assert second["attributes"]["results"]["deleted"] == [two["id"]]
    assert second["attributes"]["summary"] == {"failed": 2, "skipped": 0, "succeeded": 2, "total": 4}
    errors = {e["knowledgeBaseEntries"][0]["id"]: e for e in second["attributes"]["errors"]}
    assert errors["no-such-entry"]["statusCode"] == 404
    assert errors["attack-T1003"]["statusCode"] == 403  # built-in content is read-only

    by_query = user.client.post(bulk, json={"delete": {"query": "name:one"}}).json()
    assert by_query["attributes"]["results"]["deleted"] == [one["id"]]
    assert user.client.post(bulk, json={"delete": {}}).status_code == 400
    too_many = user.client.post(bulk, json={"create": [document(f"n{i}", "t") for i in range(101)]})
    assert too_many.status_code == 400

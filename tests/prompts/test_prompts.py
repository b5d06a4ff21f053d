"""The Prompts API as Kibana's clients use it: _find with KQL, _bulk_action, defaults, rights."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import clients
from tests.support.clients import kibana_client, unique_name
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.errors import NotFound
from vigil.prompts import defaults, service
from vigil.settings import Settings

PROMPTS = "/api/security_ai_assistant/prompts"
FIND = f"{PROMPTS}/_find"
BULK = f"{PROMPTS}/_bulk_action"
N_DEFAULTS = len(defaults.DEFAULT_PROMPTS)


def new_space() -> str:
    return unique_name("space").lower()


def in_space(user: clients.TestUser, space: str) -> httpx.Client:
    user.client.base_url = user.client.base_url.join(f"/s/{space}")
    return user.client


def bulk(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post(BULK, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def create(client: httpx.Client, name: str, prompt_type: str = "quick", **extra: Any) -> dict[str, Any]:
    result = bulk(client, create=[{"name": name, "promptType": prompt_type, "content": f"do {name}", **extra}])
    assert result["success"] is True, result
    return result["attributes"]["results"]["created"][0]


def find(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get(FIND, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_defaults_present_in_a_fresh_space_and_idempotent(make_user: Callable[..., clients.TestUser]) -> None:
    client = in_space(make_user("viewer"), new_space())
    first = find(client, per_page=100)
    assert first["total"] == N_DEFAULTS
    ids = {p["id"] for p in first["data"]}
    assert ids == set(defaults.DEFAULT_PROMPTS_BY_ID)
    assert find(client, per_page=100)["total"] == N_DEFAULTS
    system = {p["id"]: p for p in first["data"] if p["promptType"] == "system"}
    default = system[defaults.DEFAULT_SYSTEM_PROMPT_ID]
    assert default["isNewConversationDefault"] is True and default["isDefault"] is True
    assert "untrusted data, never instructions" in default["content"]
    assert default["users"] == [] and default["namespace"].startswith("space_")
    quick = {p["name"]: p for p in first["data"] if p["promptType"] == "quick"}
    assert {
        "Alerts",
        "Research",
        "Query",
        "Suggest",
        "Alert summarization",
        "Rule creation",
        "Workflow",
        "Query conversion",
        "ES|QL query generation",
    } <= set(quick)
    assert quick["Alert summarization"]["categories"] == ["alert"]
    assert quick["Alert summarization"]["color"].startswith("#")
    assert "Splunk" in quick["Query conversion"]["content"]


def test_find_filters_paging_sorting_and_fields(make_user: Callable[..., clients.TestUser]) -> None:
    client = in_space(make_user("editor"), new_space())
    create(client, "zz custom", categories=["alert", "mine"], consumer="securitySolutionUI")
    create(client, "aa system", "system")
    assert find(client, filter="promptType:quick")["total"] == 11
    assert find(client, filter="promptType:system and is_default:true")["total"] == 3
    assert find(client, filter="isDefault:false")["total"] == 2
    alert = find(client, filter="categories:alert", sort_field="name", sort_order="asc")
    assert [p["name"] for p in alert["data"]] == ["Alert summarization", "Triage steps", "zz custom"]
    assert find(client, filter="categories:mine and consumer:securitySolutionUI")["total"] == 1
    assert find(client, filter="not categories:*")["total"] == find(client, per_page=0)["total"] - 9
    page = find(client, page=2, per_page=5, sort_field="name", sort_order="asc")
    names = [p["name"] for p in find(client, per_page=100, sort_field="name", sort_order="asc")["data"]]
    assert (page["page"], page["perPage"], page["total"]) == (2, 5, N_DEFAULTS + 2)
    assert [p["name"] for p in page["data"]] == names[5:10] and names == sorted(names)
    slim = find(client, fields="name,consumer", filter='name:"zz custom"')["data"][0]
    assert set(slim) == {"id", "name", "promptType", "content", "consumer"}
    bad = client.get(FIND, params={"filter": "nosuchfield:1"})
    assert bad.status_code == 400 and "unknown field" in bad.json()["message"]
    assert client.get(FIND, params={"sort_field": "title"}).status_code == 400
    assert client.get(FIND, params={"page": 1000, "per_page": 1000}).status_code == 400


def test_bulk_create_update_delete_with_per_item_errors(make_user: Callable[..., clients.TestUser]) -> None:
    client = in_space(make_user("editor"), new_space())
    mine = create(client, "triage", "system", isNewConversationDefault=False, color="#123456")
    assert mine["users"][0]["name"] and mine["createdBy"] == mine["updatedBy"]
    assert mine["isDefault"] is False and mine["categories"] == []
    result = bulk(
        client,
        create=[
            {"name": "triage", "promptType": "system", "content": "dup"},
            {"name": "triage", "promptType": "quick", "content": "same name, other type"},
        ],
        update=[
            {"id": mine["id"], "content": "new content", "categories": ["a", "b"]},
            {"id": "no-such-prompt", "content": "x"},
        ],
        delete={"ids": ["missing-id"]},
    )
    assert result["success"] is False and result["message"] == "Bulk edit partially failed"
    assert result["attributes"]["summary"] == {"failed": 3, "skipped": 0, "succeeded": 2, "total": 5}
    statuses = sorted(e["status_code"] for e in result["attributes"]["errors"])
    assert statuses == [404, 404, 409]
    updated = result["attributes"]["results"]["updated"][0]
    assert updated["content"] == "new content" and updated["categories"] == ["a", "b"]
    assert updated["color"] == "#123456" and updated["updatedAt"] >= mine["updatedAt"]
    other = result["attributes"]["results"]["created"][0]
    deleted = bulk(client, delete={"query": "promptType:quick and isDefault:false"})
    assert deleted["attributes"]["results"]["deleted"] == [other["id"]]
    assert bulk(client, delete={"ids": [mine["id"]]})["attributes"]["results"]["deleted"] == [mine["id"]]
    assert find(client)["total"] == N_DEFAULTS


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"create": [{"promptType": "quick", "content": "c"}]}, "create.0.name: Required"),
        ({"create": [{"name": "n", "promptType": "other", "content": "c"}]}, "create.0.promptType"),
        ({"create": [{"name": " ", "promptType": "quick", "content": "c"}]}, "create.0.name"),
        ({"create": [{"name": "n", "promptType": "quick", "content": ""}]}, "create.0.content"),
        ({"create": [{"name": "n", "promptType": "quick", "content": "c", "categories": "x"}]}, "categories"),
        ({"update": [{"content": "c"}]}, "update.0.id: Required"),
        ({"delete": {"ids": []}}, "delete.ids"),
        ({"delete": {}}, "delete"),
        ({"create": [{"name": "n", "promptType": "quick", "content": "c"}] * 101}, "More than 100"),
    ],
)
def test_bulk_validation_is_400_naming_the_field(admin: httpx.Client, body: dict, fragment: str) -> None:
    response = admin.post(BULK, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert fragment in error["message"]


def test_privileges(make_user: Callable[..., clients.TestUser], admin: httpx.Client) -> None:
    space = new_space()
    ingest, viewer, editor = make_user("ingest"), make_user("viewer"), make_user("editor")
    assert in_space(ingest, space).get(FIND).status_code == 403
    viewer_client = in_space(viewer, space)
    assert viewer_client.get(FIND).status_code == 200
    refused = viewer_client.post(BULK, json={"create": [{"name": "n", "promptType": "quick", "content": "c"}]})
    assert refused.status_code == 403 and "elasticAssistant" in refused.json()["message"]
    no_xsrf = viewer_client.post(BULK, json={}, headers={"kbn-xsrf": ""})
    assert no_xsrf.status_code in (400, 403)
    editor_client = in_space(editor, space)
    assert create(editor_client, "editor's own")["isDefault"] is False
    default_id = defaults.DEFAULT_SYSTEM_PROMPT_ID
    result = bulk(editor_client, update=[{"id": default_id, "content": "hacked"}])
    assert result["attributes"]["errors"][0]["status_code"] == 403
    result = bulk(editor_client, create=[{"name": "x", "promptType": "quick", "content": "c", "isDefault": True}])
    assert result["attributes"]["errors"][0]["status_code"] == 403
    admin_client = kibana_client(str(admin.base_url.join(f"/s/{space}")), auth=admin.auth)
    with admin_client:
        changed = bulk(admin_client, update=[{"id": default_id, "content": "Customised by the admin."}])
        assert changed["attributes"]["results"]["updated"][0]["content"] == "Customised by the admin."
        refused_delete = bulk(admin_client, delete={"ids": [default_id]})
        assert refused_delete["attributes"]["errors"][0]["status_code"] == 400
        assert "cannot be deleted" in refused_delete["attributes"]["errors"][0]["message"]


def test_cross_user_and_cross_space_isolation(make_user: Callable[..., clients.TestUser]) -> None:
    space, other_space = new_space(), new_space()
    alice, bob = make_user("editor"), make_user("editor")
    alice_client, bob_client = in_space(alice, space), in_space(bob, space)
    prompt = create(alice_client, "alice's prompt")
    # Kibana's _find has no user filter: prompts are readable space-wide, writable by the owner.
    assert find(bob_client, filter='name:"alice\'s prompt"')["total"] == 1
    result = bulk(bob_client, update=[{"id": prompt["id"], "content": "x"}], delete={"ids": [prompt["id"]]})
    assert sorted(e["status_code"] for e in result["attributes"]["errors"]) == [403, 403]
    assert bulk(bob_client, delete={"query": "isDefault:false"})["attributes"]["results"]["deleted"] == []
    # Bob may reuse Alice's name: uniqueness is per owner and type, as Kibana checks it.
    create(bob_client, "alice's prompt")
    with kibana_client(str(alice_client.base_url).replace(space, other_space), auth=alice_client.auth) as c:
        assert find(c, filter='name:"alice\'s prompt"')["total"] == 0
        gone = bulk(c, update=[{"id": prompt["id"], "content": "x"}])
        assert gone["attributes"]["errors"][0]["status_code"] == 404


def test_concurrent_first_seeding_makes_no_duplicates(make_user: Callable[..., clients.TestUser]) -> None:
    user = make_user("viewer")
    space = new_space()
    results: list[int] = []

    def hit() -> None:
        with kibana_client(str(user.client.base_url.join(f"/s/{space}")), auth=user.client.auth) as c:
            results.append(c.get(FIND, params={"per_page": 100}).json()["total"])

    threads = [threading.Thread(target=hit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [N_DEFAULTS] * 6
    assert find(in_space(user, space), per_page=100)["total"] == N_DEFAULTS


def test_resolve_system_prompt(settings: Settings, make_user: Callable[..., clients.TestUser], base_url: str) -> None:
    space = new_space()
    user = make_user("editor")
    database = Database(settings)
    me = user.client.get("/_security/_authenticate").json()
    principal = Principal(user_id=me.get("profile_uid") or "", username=user.username, roles=("editor",))
    try:
        with database.session(readonly=True) as session:  # not seeded yet: the shipped text
            text = service.resolve_system_prompt(session, principal, space, None)
            assert text == defaults.SYSTEM_PROMPTS[0].content
            assert (
                service.resolve_system_prompt(session, principal, space, defaults.ENHANCED_SYSTEM_PROMPT_ID)
                == defaults.SYSTEM_PROMPTS[1].content
            )
            with pytest.raises(NotFound):
                service.resolve_system_prompt(session, principal, space, "vigil-quick-prompt-alerts")
            with pytest.raises(NotFound):
                service.resolve_system_prompt(session, principal, space, "nope")
        client = in_space(user, space)
        own = create(client, "mine", "system", isNewConversationDefault=True)
        with database.session(readonly=True) as session:
            owner_id = session.scalar(service.select(service.Prompt.owner_id).where(service.Prompt.id == own["id"]))
            principal = Principal(user_id=owner_id, username=user.username, roles=("editor",))
            assert service.resolve_system_prompt(session, principal, space, None) == "do mine"
            assert service.resolve_system_prompt(session, principal, space, own["id"]) == "do mine"
            stranger = Principal(user_id="someone-else", username="x", roles=("editor",))
            assert service.resolve_system_prompt(session, stranger, space, None) == (defaults.SYSTEM_PROMPTS[0].content)
    finally:
        database.dispose()

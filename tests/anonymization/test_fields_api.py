"""The Anonymization Fields API as Kibana's clients use it: _find with KQL and aggregations,
_bulk_action, per-space defaults, privileges, and the rules the chat engine loads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support import clients
from tests.support.clients import kibana_client, unique_name
from vigil.anonymization.fields import defaults, service
from vigil.anonymization.fields.models import AnonymizationField, AnonymizationFieldSpace
from vigil.db.engine import Database
from vigil.settings import Settings

BASE = "/api/security_ai_assistant/anonymization_fields"
FIND = f"{BASE}/_find"
BULK = f"{BASE}/_bulk_action"
N_DEFAULTS = len(defaults.DEFAULT_FIELDS)
N_ANONYMIZED = sum(1 for d in defaults.DEFAULT_FIELDS if d.anonymized)


def new_space() -> str:
    return unique_name("space").lower()


def space_client(client: httpx.Client, space: str) -> httpx.Client:
    return kibana_client(str(client.base_url.join(f"/s/{space}")), auth=client.auth)


def bulk(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post(BULK, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def find(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get(FIND, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def buckets(result: dict[str, Any]) -> dict[str, int]:
    raw = result["aggregations"]["field_status"]["buckets"]
    return {name: raw[name]["doc_count"] for name in ("allowed", "anonymized", "denied")}


@pytest.fixture
def admin_space(admin: httpx.Client) -> Any:
    with space_client(admin, new_space()) as client:
        yield client


def test_default_list_is_kibanas() -> None:
    fields = [d.field for d in defaults.DEFAULT_FIELDS]
    assert len(fields) == len(set(fields)) == 65
    assert all(d.allowed for d in defaults.DEFAULT_FIELDS)
    anonymized = {d.field for d in defaults.DEFAULT_FIELDS if d.anonymized}
    assert anonymized == set(defaults.DEFAULT_ALLOW_REPLACEMENT) - {"host.ip"}
    assert "host.ip" not in fields  # in DEFAULT_ALLOW_REPLACEMENT only: Kibana does not seed it
    assert defaults.default_field_id("user.name") == defaults.default_field_id("user.name")


def test_defaults_present_in_a_fresh_space_and_kibana_shaped(make_user: Callable[..., clients.TestUser]) -> None:
    space = new_space()
    with space_client(make_user("viewer").client, space) as client:
        first = find(client, per_page=1000, sort_field="field", sort_order="asc")
        assert (first["page"], first["perPage"], first["total"]) == (1, 1000, N_DEFAULTS)
        assert find(client, per_page=0)["total"] == N_DEFAULTS  # idempotent
        by_field = {f["field"]: f for f in first["data"]}
        user_name = by_field["user.name"]
        shape = {"id", "timestamp", "field", "allowed", "anonymized", "createdAt", "updatedAt", "namespace"}
        assert set(user_name) == shape  # shipped fields have no createdBy / updatedBy
        assert user_name["id"] == defaults.default_field_id("user.name")
        assert user_name["allowed"] is True and user_name["anonymized"] is True
        assert user_name["namespace"] == space and user_name["timestamp"].endswith("Z")
        assert by_field["kibana.alert.rule.name"] == {**by_field["kibana.alert.rule.name"], "anonymized": False}
        assert by_field["_id"]["anonymized"] is True and by_field["process.name"]["anonymized"] is False
        assert buckets(first) == {"allowed": N_DEFAULTS, "anonymized": N_ANONYMIZED, "denied": 0}
        assert [f["field"] for f in first["data"]] == sorted(by_field)


def test_find_filters_paging_sorting_fields_and_all(admin_space: httpx.Client) -> None:
    client = admin_space
    result = bulk(
        client,
        create=[
            {"field": "zz.secret", "allowed": False, "anonymized": False},
            {"field": "host.ip", "allowed": True, "anonymized": True},
        ],
    )
    assert result["success"] is True and result["anonymization_fields_count"] == 2
    assert find(client, filter="allowed:false")["total"] == 1
    assert find(client, filter="allowed:true")["total"] == N_DEFAULTS + 1
    host = find(client, filter="field:host.*", sort_field="field", sort_order="asc")
    assert [f["field"] for f in host["data"]] == [
        "host.ip",
        "host.name",
        "host.risk.calculated_level",
        "host.risk.calculated_score_norm",
    ]
    assert buckets(host) == {"allowed": 4, "anonymized": 2, "denied": 0}
    assert find(client, filter='field:"user.name" and anonymized:true')["total"] == 1
    assert find(client, filter="user.name")["total"] == 1  # a bare value searches `field`
    assert find(client, filter="not anonymized:true and allowed:true")["total"] == N_DEFAULTS - N_ANONYMIZED
    everything = find(client, per_page=1000, sort_field="field", sort_order="asc")["data"]
    page = find(client, page=3, per_page=7, sort_field="field", sort_order="asc")
    assert (page["page"], page["perPage"], page["total"]) == (3, 7, N_DEFAULTS + 2)
    assert [f["id"] for f in page["data"]] == [f["id"] for f in everything[14:21]]
    by_allowed = find(client, per_page=1, sort_field="allowed", sort_order="asc")["data"]
    assert by_allowed[0]["field"] == "zz.secret"
    by_anonymized = find(client, per_page=1000, sort_field="anonymized", sort_order="desc")["data"]
    assert all(f["anonymized"] for f in by_anonymized[: N_ANONYMIZED + 1])
    newest = find(client, per_page=2, sort_field="created_at", sort_order="desc")["data"]
    assert {f["field"] for f in newest} == {"zz.secret", "host.ip"}
    assert find(client, sort_field="updated_at", sort_order="asc", per_page=1)["total"] == N_DEFAULTS + 2
    slim = find(client, fields="allowed", filter='field:"zz.secret"')["data"][0]
    assert set(slim) == {"id", "field", "allowed"}
    slim = find(client, fields=["anonymized", "created_at"], filter='field:"zz.secret"')["data"][0]
    assert set(slim) == {"id", "field", "anonymized", "createdAt"}
    with_all = find(client, per_page=2, all_data="true", filter="anonymized:true")
    assert len(with_all["data"]) == 2 and len(with_all["all"]) == with_all["total"] == N_ANONYMIZED + 1
    assert "all" not in find(client, per_page=1)
    counts = buckets(find(client, per_page=0))
    assert counts == {"allowed": N_DEFAULTS + 1, "anonymized": N_ANONYMIZED + 1, "denied": 1}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"filter": "nosuchfield:1"}, "unknown field"),
        ({"filter": "allowed:maybe"}, "allowed"),
        ({"filter": "field:(a"}, "Invalid filter"),
        ({"sort_field": "name"}, "sort_field"),
        ({"sort_order": "up"}, "sort_order"),
        ({"page": 0}, "page"),
        ({"per_page": -1}, "per_page"),
        ({"page": 1000, "per_page": 1000}, "Result window is too large"),
        ({"all_data": "perhaps"}, "all_data"),
    ],
)
def test_find_validation_is_400(admin: httpx.Client, params: dict[str, Any], fragment: str) -> None:
    response = admin.get(FIND, params=params)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert fragment in error["message"]


def test_bulk_create_update_delete_with_per_item_errors(admin_space: httpx.Client) -> None:
    client = admin_space
    created = bulk(client, create=[{"field": "custom.one", "allowed": True}, {"field": "custom.two"}])
    one, two = created["attributes"]["results"]["created"]
    assert (one["field"], one["allowed"], one["anonymized"]) == ("custom.one", True, False)
    assert (two["allowed"], two["anonymized"]) == (False, False)  # absent flags are false
    assert one["createdBy"] == one["updatedBy"] == "elastic" and one["namespace"]
    user_name_id = defaults.default_field_id("user.name")
    result = bulk(
        client,
        create=[
            {"field": "user.name", "allowed": True},  # a default: duplicate
            {"field": "custom.three", "anonymized": True},
            {"field": "custom.three"},  # duplicate within the request
        ],
        update=[
            {"id": user_name_id, "anonymized": False},
            {"id": one["id"], "allowed": False, "anonymized": True},
            {"id": "no-such-field", "allowed": True},
        ],
        delete={"ids": [two["id"], "missing-id"]},
    )
    assert result["success"] is False and result["message"] == "Bulk edit partially failed"
    assert result["anonymization_fields_count"] == 8
    assert result["attributes"]["summary"] == {"failed": 4, "skipped": 0, "succeeded": 4, "total": 8}
    errors = result["attributes"]["errors"]
    assert sorted(e["status_code"] for e in errors) == [404, 404, 409, 409]
    conflicts = [e for e in errors if e["status_code"] == 409]
    assert {e["anonymization_fields"][0]["name"] for e in conflicts} == {"user.name", "custom.three"}
    assert all(e["err_code"] == "CONFLICT" and "already exists" in e["message"] for e in conflicts)
    missing = sorted(e["anonymization_fields"][0]["id"] for e in errors if e["status_code"] == 404)
    assert missing == ["missing-id", "no-such-field"]
    results = result["attributes"]["results"]
    assert [c["field"] for c in results["created"]] == ["custom.three"]
    assert results["created"][0]["anonymized"] is True and results["created"][0]["allowed"] is False
    updated = {u["id"]: u for u in results["updated"]}
    assert updated[user_name_id]["anonymized"] is False and updated[user_name_id]["allowed"] is True
    assert updated[user_name_id]["updatedBy"] == "elastic"
    assert updated[user_name_id]["updatedAt"] > updated[user_name_id]["createdAt"]
    assert (updated[one["id"]]["allowed"], updated[one["id"]]["anonymized"]) == (False, True)
    assert results["deleted"] == [two["id"]]
    # Delete by query, and a default field too: deletions stick (no re-seeding).
    gone = bulk(client, delete={"query": "field:custom.*"})
    assert sorted(gone["attributes"]["results"]["deleted"]) == sorted([one["id"], results["created"][0]["id"]])
    dropped = bulk(client, delete={"query": 'field:"user.name"', "ids": [user_name_id]})
    assert dropped["attributes"]["results"]["deleted"] == [user_name_id]
    assert find(client, per_page=0)["total"] == N_DEFAULTS - 1
    assert find(client, filter='field:"user.name"')["total"] == 0
    failed = bulk(client, update=[{"id": "nope"}])
    assert failed["message"] == "Bulk edit failed" and failed["status_code"] == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"create": [{"allowed": True}]}, "create.0.field: Required"),
        ({"create": [{"field": ""}]}, "create.0.field"),
        ({"create": [{"field": "   "}]}, "create.0.field"),
        ({"create": [{"field": "x" * 256}]}, "create.0.field"),
        ({"create": [{"field": "a", "allowed": "often"}]}, "create.0.allowed"),
        ({"create": [{"field": "a", "anonymized": []}]}, "create.0.anonymized"),
        ({"create": {"field": "a"}}, "create"),
        ({"update": [{"allowed": True}]}, "update.0.id: Required"),
        ({"update": [{"id": "x", "anonymized": "yes please"}]}, "update.0.anonymized"),
        ({"delete": {"ids": []}}, "delete.ids"),
        ({"delete": {}}, "delete"),
        ({"delete": {"query": ""}}, "delete"),
        ({"delete": {"query": "nosuchfield:1"}}, "unknown field"),
        ({"create": [{"field": f"f{i}"} for i in range(101)]}, "More than 100"),
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
    body = {"create": [{"field": "some.field", "allowed": True}]}
    with space_client(make_user("ingest").client, space) as ingest:
        assert ingest.get(FIND).status_code == 403
        assert ingest.post(BULK, json=body).status_code == 403
    for role in ("viewer", "editor"):
        with space_client(make_user(role).client, space) as client:
            assert find(client)["total"] == N_DEFAULTS
            refused = client.post(BULK, json=body)
            assert refused.status_code == 403, refused.text
            message = refused.json()["message"]
            assert "securitySolution-updateAIAssistantAnonymization" in message
            assert "aiAssistantCustomize" in message
    with space_client(admin, space) as client:
        bare = httpx.post(str(client.base_url).rstrip("/") + BULK, json=body, auth=admin.auth)
        assert bare.status_code == 400 and "kbn-xsrf" in bare.json()["message"]
        assert bulk(client, **body)["success"] is True
    assert find(admin, filter='field:"some.field"')["total"] == 0  # the default space is untouched


def test_space_isolation(admin: httpx.Client) -> None:
    space, other = new_space(), new_space()
    with space_client(admin, space) as here, space_client(admin, other) as there:
        created = bulk(here, create=[{"field": "only.here", "allowed": True}])["attributes"]["results"]["created"]
        assert find(there, filter='field:"only.here"')["total"] == 0
        # Same field name in another space is fine: uniqueness is per space.
        assert bulk(there, create=[{"field": "only.here"}])["success"] is True
        user_name_id = defaults.default_field_id("user.name")
        bulk(here, update=[{"id": user_name_id, "allowed": False}])
        assert find(there, filter='field:"user.name"')["data"][0]["allowed"] is True
        cross = bulk(there, update=[{"id": created[0]["id"], "allowed": False}], delete={"ids": [created[0]["id"]]})
        assert sorted(e["status_code"] for e in cross["attributes"]["errors"]) == [404, 404]
        assert find(here, filter='field:"only.here"')["data"][0]["allowed"] is True


def test_concurrent_first_seeding_makes_no_duplicates(admin: httpx.Client, settings: Settings) -> None:
    space = new_space()
    results: list[int] = []

    def hit() -> None:
        with space_client(admin, space) as client:
            results.append(client.get(FIND, params={"per_page": 0}).json()["total"])

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [N_DEFAULTS] * 8
    database = Database(settings)
    try:
        with database.session(readonly=True) as session:
            rows = session.scalars(select(AnonymizationField.field).where(AnonymizationField.namespace == space)).all()
            assert len(rows) == len(set(rows)) == N_DEFAULTS
        with database.session() as session:  # seeding again is a no-op
            assert service.seed_defaults(session, space) is False
    finally:
        database.dispose()


def test_load_field_rules(admin: httpx.Client, settings: Settings) -> None:
    database = Database(settings)
    shipped = sorted((d.field, d.allowed, d.anonymized) for d in defaults.DEFAULT_FIELDS)
    try:
        fresh = new_space()
        with database.session(readonly=True) as session:  # read-only: the defaults, nothing written
            assert service.load_field_rules(session, fresh) == shipped
        with database.session(readonly=True) as session:
            assert session.get(AnonymizationFieldSpace, fresh) is None
        with database.session() as session:  # writable: seeds, then the same rules
            assert service.load_field_rules(session, fresh) == shipped
        with database.session(readonly=True) as session:
            assert service.is_seeded(session, fresh)
            assert service.load_field_rules(session, fresh) == shipped

        space = new_space()
        with space_client(admin, space) as client:
            bulk(
                client,
                create=[{"field": "a.custom", "allowed": True, "anonymized": True}],
                update=[{"id": defaults.default_field_id("host.name"), "anonymized": False}],
            )
            with database.session(readonly=True) as session:
                rules = service.load_field_rules(session, space)
            assert rules == sorted(rules)
            as_dict = {field: (allowed, anonymized) for field, allowed, anonymized in rules}
            assert as_dict["a.custom"] == (True, True) and as_dict["host.name"] == (True, False)
            assert len(rules) == N_DEFAULTS + 1
            # Every field deleted: nothing is allowed, and the defaults do not come back.
            bulk(client, delete={"query": "*"})
            with database.session() as session:
                assert service.load_field_rules(session, space) == []
            assert find(client, per_page=0)["total"] == 0
    finally:
        database.dispose()

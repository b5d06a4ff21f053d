"""Authentication (Basic, ApiKey) and the Elasticsearch-style security API."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from tests.conftest import ADMIN_USER
from tests.support.clients import CONVERSATIONS, kibana_client, unique_name
from vigil.settings import Settings


def test_missing_credentials_is_401_in_kibana_envelope(base_url: str) -> None:
    with kibana_client(base_url) as anonymous:
        response = anonymous.get(f"{CONVERSATIONS}/_find")
    assert response.status_code == 401
    body = response.json()
    assert body["statusCode"] == 401 and body["error"] == "Unauthorized"
    assert "credentials" in body["message"]
    assert "Basic" in response.headers["www-authenticate"]


def test_wrong_password_is_401_and_audited(base_url: str, settings: Settings) -> None:
    with kibana_client(base_url, auth=(ADMIN_USER, "not-the-password")) as client:
        assert client.get(f"{CONVERSATIONS}/_find").status_code == 401
    events = [json.loads(line) for line in settings.resolved_audit_log.read_text().splitlines()]
    failures = [e for e in events if e["event"]["action"] == "user_login"]
    assert failures and failures[-1]["event"]["outcome"] == "failure"
    assert failures[-1]["event"]["category"] == ["authentication"]
    assert "not-the-password" not in settings.resolved_audit_log.read_text()


def test_unknown_scheme_and_garbage_credentials_are_401(base_url: str) -> None:
    for header in ("Bearer abc", "Basic !!!notbase64", "ApiKey bm9jb2xvbg==", "ApiKey ???"):
        with kibana_client(base_url, headers={"Authorization": header}) as client:
            response = client.get(f"{CONVERSATIONS}/_find")
        assert response.status_code == 401, header
        assert response.json()["statusCode"] == 401


def test_es_routes_answer_errors_in_elasticsearch_shape(base_url: str) -> None:
    response = httpx.get(f"{base_url}/_security/_authenticate")
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401
    assert body["error"]["type"] == "security_exception"
    assert body["error"]["root_cause"][0]["type"] == "security_exception"


def test_authenticate_reports_the_user(admin: httpx.Client) -> None:
    body = admin.get("/_security/_authenticate").json()
    assert body["username"] == ADMIN_USER
    assert body["roles"] == ["superuser"]
    assert body["authentication_type"] == "realm"


def test_user_crud_as_elasticsearch(admin: httpx.Client, base_url: str) -> None:
    name = unique_name("analyst")
    created = admin.put(
        f"/_security/user/{name}",
        json={
            "password": "s3cret-pw",
            "roles": ["editor"],
            "full_name": "Ann Analyst",
            "email": "a@example.com",
        },
    )
    assert created.status_code == 200 and created.json() == {"created": True}
    again = admin.put(f"/_security/user/{name}", json={"roles": ["viewer"], "full_name": "Ann A."})
    assert again.json() == {"created": False}
    fetched = admin.get(f"/_security/user/{name}").json()
    assert fetched[name]["roles"] == ["viewer"] and fetched[name]["full_name"] == "Ann A."
    assert "password" not in str(fetched).lower()
    # The password was kept by the update that did not name one.
    with kibana_client(base_url, auth=(name, "s3cret-pw")) as client:
        assert client.get("/_security/_authenticate").json()["roles"] == ["viewer"]
    assert name in admin.get("/_security/user").json()
    assert admin.delete(f"/_security/user/{name}").json() == {"found": True}
    assert admin.get(f"/_security/user/{name}").status_code == 404
    assert admin.delete(f"/_security/user/{name}").status_code == 404
    with kibana_client(base_url, auth=(name, "s3cret-pw")) as client:
        assert client.get("/_security/_authenticate").status_code == 401


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"password": "short", "roles": ["editor"]}, "at least [6]"),
        ({"password": "long-enough", "roles": ["no_such_role"]}, "unknown roles"),
        ({"password": "long-enough"}, "roles"),
        ({"roles": ["editor"]}, "password must be specified"),
    ],
)
def test_user_validation_errors_are_400(admin: httpx.Client, body: dict, fragment: str) -> None:
    response = admin.put(f"/_security/user/{unique_name('bad')}", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["reason"]


def test_only_superusers_manage_users(make_user) -> None:
    editor = make_user("editor")
    response = editor.client.put(
        f"/_security/user/{unique_name('x')}", json={"password": "abcdefg", "roles": ["superuser"]}
    )
    assert response.status_code == 403
    assert "manage_security" in response.json()["error"]["reason"]
    assert editor.client.get("/_security/user").status_code == 403


def test_last_superuser_cannot_be_removed(admin: httpx.Client) -> None:
    response = admin.delete(f"/_security/user/{ADMIN_USER}")
    assert response.status_code == 409
    demote = admin.put(f"/_security/user/{ADMIN_USER}", json={"roles": ["viewer"]})
    assert demote.status_code == 409
    assert admin.get("/_security/_authenticate").json()["roles"] == ["superuser"]


def test_password_change_takes_effect_immediately(make_user, base_url: str) -> None:
    user = make_user("viewer")
    assert user.client.get("/_security/_authenticate").status_code == 200  # now cached
    changed = user.client.post(f"/_security/user/{user.username}/_password", json={"password": "brand-new-pw"})
    assert changed.status_code == 200
    assert user.client.get("/_security/_authenticate").status_code == 401
    with kibana_client(base_url, auth=(user.username, "brand-new-pw")) as client:
        assert client.get("/_security/_authenticate").status_code == 200


def _api_key_client(base_url: str, encoded: str) -> httpx.Client:
    return kibana_client(base_url, headers={"Authorization": f"ApiKey {encoded}"})


def test_api_key_lifecycle(make_user, base_url: str) -> None:
    user = make_user("editor")
    created = user.client.post("/_security/api_key", json={"name": "soar-connector", "metadata": {"team": "soc"}})
    assert created.status_code == 200
    key = created.json()
    assert set(key) == {"id", "name", "api_key", "encoded"}
    assert base64.b64decode(key["encoded"]).decode() == f"{key['id']}:{key['api_key']}"

    with _api_key_client(base_url, key["encoded"]) as client:
        me = client.get("/_security/_authenticate").json()
        assert me["username"] == user.username and me["authentication_type"] == "api_key"
        assert me["api_key"] == {"id": key["id"], "name": "soar-connector"}
        conversation = client.post(CONVERSATIONS, json={"title": "via api key"})
        assert conversation.status_code == 200
        assert conversation.json()["createdBy"]["name"] == user.username
        # An API key may not mint more keys.
        assert client.post("/_security/api_key", json={"name": "child"}).status_code == 400

    listed = user.client.get("/_security/api_key").json()["api_keys"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert listed[0]["invalidated"] is False and listed[0]["metadata"] == {"team": "soc"}
    assert "api_key" not in listed[0] and "key_hash" not in str(listed[0])

    invalidated = user.client.request("DELETE", "/_security/api_key", json={"ids": [key["id"]]}).json()
    assert invalidated == {
        "invalidated_api_keys": [key["id"]],
        "previously_invalidated_api_keys": [],
        "error_count": 0,
    }
    again = user.client.request("DELETE", "/_security/api_key", json={"ids": [key["id"]]}).json()
    assert again["previously_invalidated_api_keys"] == [key["id"]]
    with _api_key_client(base_url, key["encoded"]) as client:
        assert client.get("/_security/_authenticate").status_code == 401


def test_wrong_api_key_secret_is_401(make_user, base_url: str) -> None:
    user = make_user("editor")
    key = user.client.post("/_security/api_key", json={"name": "k"}).json()
    forged = base64.b64encode(f"{key['id']}:{'x' * len(key['api_key'])}".encode()).decode()
    with _api_key_client(base_url, forged) as client:
        assert client.get("/_security/_authenticate").status_code == 401


def test_expired_api_key_is_401(make_user, base_url: str) -> None:
    user = make_user("editor")
    key = user.client.post("/_security/api_key", json={"name": "short-lived", "expiration": "1s"}).json()
    assert "expiration" in key
    with _api_key_client(base_url, key["encoded"]) as client:
        assert client.get("/_security/_authenticate").status_code == 200
        time.sleep(1.2)
        assert client.get("/_security/_authenticate").status_code == 401


def test_bad_expiration_is_400(make_user) -> None:
    user = make_user("editor")
    response = user.client.post("/_security/api_key", json={"name": "k", "expiration": "tomorrow"})
    assert response.status_code == 400
    assert "time value" in response.json()["error"]["reason"]


def test_role_descriptors_are_refused_not_ignored(make_user) -> None:
    user = make_user("editor")
    response = user.client.post("/_security/api_key", json={"name": "k", "role_descriptors": {"r": {"cluster": []}}})
    assert response.status_code == 400


def test_users_only_see_and_invalidate_their_own_keys(make_user, admin: httpx.Client) -> None:
    alice, bob = make_user("editor"), make_user("editor")
    alice_key = alice.client.post("/_security/api_key", json={"name": "alice-key"}).json()
    bob.client.post("/_security/api_key", json={"name": "bob-key"})
    assert [k["name"] for k in bob.client.get("/_security/api_key").json()["api_keys"]] == ["bob-key"]
    attempt = bob.client.request("DELETE", "/_security/api_key", json={"ids": [alice_key["id"]]}).json()
    assert attempt["invalidated_api_keys"] == []
    assert alice.client.get("/_security/api_key").json()["api_keys"][0]["invalidated"] is False
    # Admins see everyone's keys and may filter by owner.
    by_owner = admin.get("/_security/api_key", params={"username": alice.username}).json()["api_keys"]
    assert [k["name"] for k in by_owner] == ["alice-key"]


def test_deleting_a_user_kills_their_api_keys(make_user, admin: httpx.Client, base_url: str) -> None:
    user = make_user("editor")
    key = user.client.post("/_security/api_key", json={"name": "k"}).json()
    admin.delete(f"/_security/user/{user.username}")
    with _api_key_client(base_url, key["encoded"]) as client:
        assert client.get("/_security/_authenticate").status_code == 401

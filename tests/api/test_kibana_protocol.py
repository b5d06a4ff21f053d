"""Kibana's HTTP conventions: versions, xsrf, payload limits, spaces, error envelope, OpenAPI."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.support.clients import CONVERSATIONS


def test_status_is_kibana_shaped(admin: httpx.Client, base_url: str) -> None:
    body = admin.get("/api/status").json()
    assert body["status"]["overall"]["level"] == "available"
    assert {"name", "uuid", "version", "status", "metrics"} <= set(body)
    assert body["version"]["number"].count(".") == 2
    anonymous = httpx.get(f"{base_url}/api/status")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": {"overall": {"level": "available"}}}
    assert httpx.get(f"{base_url}/api/status", auth=("elastic", "wrong")).status_code == 401


def test_version_header_is_echoed_and_checked(admin: httpx.Client) -> None:
    response = admin.get(f"{CONVERSATIONS}/_find")
    assert response.headers["elastic-api-version"] == "2023-10-31"
    wrong = admin.get(f"{CONVERSATIONS}/_find", headers={"elastic-api-version": "1999-01-01"})
    assert wrong.status_code == 400
    assert wrong.json()["message"] == 'Invalid version. Received "1999-01-01", expected one of ["2023-10-31"]'
    # Without the header the route answers at its only version, as Kibana's public routes do.
    bare = httpx.get(admin.base_url.join(f"{CONVERSATIONS}/_find"), auth=(ADMIN_USER, ADMIN_PASSWORD))
    assert bare.status_code == 200


def test_internal_routes_are_version_1(admin: httpx.Client) -> None:
    conversation = admin.post(CONVERSATIONS, json={"title": "t"}).json()
    url = f"/internal/elastic_assistant/current_user/conversations/{conversation['id']}/messages"
    message = {"messages": [{"role": "user", "content": "hi", "timestamp": "2024-01-01T00:00:00Z"}]}
    response = admin.post(url, json=message, headers={"elastic-api-version": "1"})
    assert response.status_code == 200
    assert response.headers["elastic-api-version"] == "1"


def test_writes_without_kbn_xsrf_are_refused(base_url: str) -> None:
    headers = {"elastic-api-version": "2023-10-31"}
    auth = (ADMIN_USER, ADMIN_PASSWORD)
    refused = httpx.post(f"{base_url}{CONVERSATIONS}", json={"title": "x"}, headers=headers, auth=auth)
    assert refused.status_code == 400
    assert refused.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Request must contain a kbn-xsrf header.",
    }
    # kbn-version also satisfies Kibana's check; reads never need it.
    allowed = httpx.post(
        f"{base_url}{CONVERSATIONS}",
        json={"title": "x"},
        headers={**headers, "kbn-version": "9.2.0"},
        auth=auth,
    )
    assert allowed.status_code == 200
    assert httpx.get(f"{base_url}{CONVERSATIONS}/_find", headers=headers, auth=auth).status_code == 200
    # As in Kibana, authentication comes first: an anonymous write is a 401, not an xsrf 400.
    assert httpx.post(f"{base_url}{CONVERSATIONS}", json={"title": "x"}, headers=headers).status_code == 401


def test_elasticsearch_routes_need_no_xsrf(base_url: str) -> None:
    response = httpx.post(f"{base_url}/_security/api_key", json={"name": "k"}, auth=(ADMIN_USER, ADMIN_PASSWORD))
    assert response.status_code == 200


def test_oversized_payload_is_413(admin: httpx.Client) -> None:
    big = {"title": "x" * 1_100_000}
    response = admin.post(CONVERSATIONS, json=big)
    assert response.status_code == 413
    assert response.json()["message"] == "Payload content length greater than maximum allowed: 1048576"


def test_oversized_chunked_payload_is_413(admin: httpx.Client) -> None:
    def chunks():
        yield b'{"title": "'
        for _ in range(120):
            yield b"y" * 10_000
        yield b'"}'

    response = admin.post(CONVERSATIONS, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_malformed_json_is_400(admin: httpx.Client) -> None:
    response = admin.post(CONVERSATIONS, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_unknown_route_is_404_in_the_right_envelope(admin: httpx.Client) -> None:
    kibana = admin.get("/api/security_ai_assistant/nope")
    assert kibana.status_code == 404 and kibana.json()["statusCode"] == 404
    es = admin.get("/_nope/_nothing")
    assert es.status_code == 404 and es.json()["status"] == 404


def test_spaces_prefix_routes_and_isolates(make_user) -> None:
    user = make_user("editor")
    in_default = user.create_conversation("default space one")
    in_soc = user.create_conversation("soc space one", space="soc")
    assert in_default["namespace"] == "default"
    assert in_soc["namespace"] == "soc"
    soc_find = user.client.get(f"/s/soc{CONVERSATIONS}/_find").json()
    assert [c["id"] for c in soc_find["data"]] == [in_soc["id"]]
    default_find = user.client.get(f"{CONVERSATIONS}/_find").json()
    assert [c["id"] for c in default_find["data"]] == [in_default["id"]]
    # A conversation of one space is not found through another.
    assert user.client.get(f"/s/soc{CONVERSATIONS}/{in_default['id']}").status_code == 404
    assert user.client.get(f"{CONVERSATIONS}/{in_soc['id']}").status_code == 404
    assert user.client.delete(f"/s/other{CONVERSATIONS}/{in_soc['id']}").status_code == 404
    assert user.client.get(f"/s/default{CONVERSATIONS}/{in_default['id']}").status_code == 200


def test_openapi_is_served(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/api/vigil/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert f"{CONVERSATIONS}/_find" in spec["paths"]
    assert "/_security/api_key" in spec["paths"]

"""A Vigil configured with `VIGIL_DATA_SOURCE=elasticsearch`: its `/_query` forwards to the peer and
answers exactly as the peer does (with the official client too); the store's routes refuse
clearly, after authentication."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import BadRequestError, Elasticsearch

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.datasource.conftest import STREAM, WEB, Peer
from tests.support.clients import kibana_client, unique_name

QUERY = f"FROM {STREAM} | STATS n = COUNT(*) BY service.name | SORT service.name"


@pytest.fixture(scope="module")
def front_client(front: str) -> Iterator[httpx.Client]:
    with kibana_client(front, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture(scope="module")
def peer_client(peer: Peer) -> Iterator[httpx.Client]:
    with kibana_client(peer.url, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
        yield client


def both(front: httpx.Client, peer: httpx.Client, body: dict, **params: str) -> tuple[httpx.Response, httpx.Response]:
    return front.post("/_query", json=body, params=params), peer.post("/_query", json=body, params=params)


@pytest.mark.parametrize(
    ("body", "params"),
    [
        ({"query": QUERY}, {}),
        ({"query": QUERY, "columnar": True}, {}),
        ({"query": f"FROM {WEB} | KEEP host.name, message | SORT host.name, message"}, {"format": "csv"}),
        ({"query": f"FROM {WEB} | KEEP host.name, http.status | SORT http.status"}, {"format": "txt"}),
        ({"query": f"FROM {STREAM} | KEEP service.name, tags | SORT service.name"}, {"drop_null_columns": "true"}),
        ({"query": f"FROM {WEB} | WHERE http.status == ? | KEEP host.name", "params": [404]}, {}),
    ],
)
def test_query_answers_as_the_peer_does(
    front_client: httpx.Client, peer_client: httpx.Client, body: dict, params: dict
) -> None:
    forwarded, direct = both(front_client, peer_client, body, **params)
    assert forwarded.status_code == direct.status_code == 200, forwarded.text
    assert forwarded.headers["content-type"] == direct.headers["content-type"]
    if params.get("format"):
        assert forwarded.text == direct.text
    else:
        answer, expected = forwarded.json(), direct.json()
        answer.pop("took"), expected.pop("took")
        assert answer == expected


def test_warnings_are_passed_on(front_client: httpx.Client, peer_client: httpx.Client) -> None:
    body = {"query": f'FROM {WEB} | WHERE host.name == "web-2" | EVAL n = TO_INTEGER(message) | KEEP n'}
    forwarded, direct = both(front_client, peer_client, body)
    assert forwarded.json()["values"] == [[None]]
    assert forwarded.headers.get_list("warning") == direct.headers.get_list("warning")
    assert len(forwarded.headers.get_list("warning")) == 2


@pytest.mark.parametrize(
    "query", [f"FROM {WEB} | WHERE nope > 1", f"FROM {WEB} | WHERE", "FROM missing_index", f"FROM {WEB} | LIMIT -1"]
)
def test_errors_answer_as_the_peer_does(front_client: httpx.Client, peer_client: httpx.Client, query: str) -> None:
    forwarded, direct = both(front_client, peer_client, {"query": query})
    assert forwarded.status_code == direct.status_code == 400
    assert forwarded.json() == direct.json()


def test_the_official_client_against_the_front(front: str) -> None:
    with Elasticsearch(front, basic_auth=(ADMIN_USER, ADMIN_PASSWORD), request_timeout=30) as es:
        result = es.esql.query(query=QUERY)
        assert result["values"] == [[1, "cart"], [2, "checkout"]]
        with pytest.raises(BadRequestError) as raised:
            es.esql.query(query=f"FROM {WEB} | KEEP nope")
        assert raised.value.error == "verification_exception"
        assert "Unknown column [nope]" in str(raised.value.info)


def test_query_needs_data_read_on_the_front(front: str, front_client: httpx.Client) -> None:
    # Vigil's own grants decide first: the cluster credentials are Vigil's, not the caller's.
    name, password = unique_name("shipper"), "front-shipper-password"
    assert front_client.put(f"/_security/user/{name}", json={"password": password, "roles": ["ingest"]}).is_success
    with kibana_client(front, auth=(name, password)) as shipper:
        response = shipper.post("/_query", json={"query": QUERY})
    assert response.status_code == 403
    assert f"unauthorized for user [{name}]" in response.json()["error"]["reason"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_bulk", '{"index": {"_index": "web"}}\n{"a": 1}\n'),
        ("POST", f"/{WEB}/_doc", json.dumps({"a": 1})),
        ("PUT", "/new-index", "{}"),
        ("DELETE", f"/{WEB}", None),
        ("GET", f"/{WEB}/_field_caps?fields=*", None),
        ("GET", "/_cat/indices", None),
        ("GET", f"/_resolve/index/{WEB}", None),
    ],
)
def test_store_routes_refuse_clearly(front_client: httpx.Client, method: str, path: str, body: str | None) -> None:
    response = front_client.request(method, path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "illegal_argument_exception"
    assert error["reason"].startswith(f"[{method} {path.split('?')[0]}] is not served: this Vigil reads its data")


def test_store_routes_authenticate_before_refusing(front: str) -> None:
    response = httpx.post(f"{front}/_bulk", content='{"index": {"_index": "web"}}\n{"a": 1}\n')
    assert response.status_code == 401
    assert "VIGIL_DATA_SOURCE" not in response.text


def test_cluster_information_is_still_served(front_client: httpx.Client) -> None:
    response = front_client.get("/")
    assert response.status_code == 200 and response.json()["tagline"] == "You Know, for Search"

"""`POST /_query` on the session's real server: data loaded through `_bulk`, answers in
Elasticsearch's shapes, and the official `elasticsearch` client's `esql.query`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import BadRequestError, Elasticsearch

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.support.clients import unique_name

pytestmark = pytest.mark.backend_independent

NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def index(admin: httpx.Client) -> str:
    name = unique_name("esql-web")
    mappings = {
        "properties": {
            "@timestamp": {"type": "date"},
            "host": {"type": "keyword"},
            "bytes": {"type": "long"},
            "tags": {"type": "keyword"},
        }
    }
    assert admin.put(f"/{name}", json={"mappings": mappings}).status_code == 200
    documents = [
        {"@timestamp": "2024-05-01T10:00:00Z", "host": "a", "bytes": 100, "tags": ["x", "y"]},
        {"@timestamp": "2024-05-01T11:00:00Z", "host": "b", "bytes": 250},
        {"@timestamp": "2024-05-02T09:30:00Z", "host": "a", "bytes": 50, "tags": "x"},
    ]
    lines = []
    for document in documents:
        lines += [json.dumps({"index": {}}), json.dumps(document)]
    response = admin.post(f"/{name}/_bulk", content="\n".join(lines) + "\n", headers=NDJSON, params={"refresh": "true"})
    assert response.status_code == 200 and not response.json()["errors"], response.text
    return name


def query(client: httpx.Client, text: str, **body: object) -> httpx.Response:
    return client.post("/_query", json={"query": text, **body})


def test_json_answer_shape(admin: httpx.Client, index: str) -> None:
    response = query(admin, f"FROM {index} | STATS total = SUM(bytes) BY host | SORT host")
    assert response.status_code == 200, response.text
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    body = response.json()
    assert set(body) == {"took", "is_partial", "columns", "values"}
    assert body["is_partial"] is False and isinstance(body["took"], int)
    assert body["columns"] == [{"name": "total", "type": "long"}, {"name": "host", "type": "keyword"}]
    assert body["values"] == [[150, "a"], [250, "b"]]


def test_columnar_and_dates(admin: httpx.Client, index: str) -> None:
    body = query(admin, f"FROM {index} | SORT @timestamp | KEEP @timestamp, bytes | LIMIT 2", columnar=True).json()
    assert body["values"] == [["2024-05-01T10:00:00.000Z", "2024-05-01T11:00:00.000Z"], [100, 250]]


def test_drop_null_columns(admin: httpx.Client, index: str) -> None:
    response = admin.post(
        "/_query",
        params={"drop_null_columns": "true"},
        json={"query": f'FROM {index} | WHERE host == "b" | KEEP host, tags'},
    )
    body = response.json()
    assert body["columns"] == [{"name": "host", "type": "keyword"}]
    assert body["all_columns"] == [{"name": "host", "type": "keyword"}, {"name": "tags", "type": "keyword"}]
    assert body["values"] == [["b"]]


def test_params(admin: httpx.Client, index: str) -> None:
    positional = query(admin, f"FROM {index} | WHERE bytes > ? AND host == ? | KEEP bytes", params=[60, "a"])
    assert positional.json()["values"] == [[100]]
    named = query(admin, f"FROM {index} | WHERE bytes > ?min | STATS c = COUNT(*)", params=[{"min": 60}])
    assert named.json()["values"] == [[2]]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("csv", "host,bytes\r\na,100\r\nb,250\r\n"),
        ("tsv", "host\tbytes\na\t100\nb\t250\n"),
        (
            "txt",
            "     host      |     bytes     \n---------------+---------------\na              |100            \n"
            "b              |250            \n",
        ),
    ],
)
def test_text_formats(admin: httpx.Client, index: str, fmt: str, expected: str) -> None:
    response = admin.post(
        "/_query",
        params={"format": fmt},
        json={"query": f"FROM {index} | SORT @timestamp | KEEP host, bytes | LIMIT 2"},
    )
    assert response.status_code == 200
    assert response.text == expected


def test_accept_header_selects_csv(admin: httpx.Client, index: str) -> None:
    response = admin.post(
        "/_query", headers={"accept": "text/csv"}, json={"query": f"FROM {index} | STATS c = COUNT(*)"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text == "c\r\n3\r\n"


def test_warnings_in_headers(admin: httpx.Client, index: str) -> None:
    response = query(admin, f'FROM {index} | EVAL t = tags == "x" | SORT @timestamp | KEEP t')
    assert response.json()["values"] == [[None], [None], [True]]
    warnings = response.headers.get_list("warning")
    assert len(warnings) == 2
    assert warnings[0].startswith("299 Elasticsearch-")
    assert 'evaluation of [tags == \\"x\\"] failed, treating result as null.' in warnings[0]
    assert "single-value function encountered multi-value" in warnings[1]


def test_errors_have_elasticsearch_bodies(admin: httpx.Client, index: str) -> None:
    parsing = query(admin, "FROM | x")
    assert parsing.status_code == 400
    assert parsing.json()["error"]["type"] == "parsing_exception"
    verification = query(admin, f"FROM {index} | KEEP nope")
    assert verification.status_code == 400
    error = verification.json()["error"]
    assert error["type"] == "verification_exception"
    assert error["reason"] == f"Found 1 problem\nline 1:{len(index) + 14}: Unknown column [nope]"
    assert error["root_cause"][0]["type"] == "verification_exception"
    missing = query(admin, "FROM no-such-index")
    assert missing.json()["error"]["reason"] == "Found 1 problem\nline 1:6: Unknown index [no-such-index]"
    unknown_field = admin.post("/_query", json={"query": "ROW a = 1", "nope": 1})
    assert unknown_field.status_code == 400


def test_requires_authentication_and_data_read(base_url: str, make_user, index: str) -> None:
    anonymous = httpx.post(f"{base_url}/_query", json={"query": "ROW a = 1"})
    assert anonymous.status_code == 401
    shipper = make_user("ingest")
    forbidden = shipper.client.post("/_query", json={"query": f"FROM {index}"})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["type"] == "security_exception"
    viewer = make_user("viewer")
    allowed = viewer.client.post("/_query", json={"query": f"FROM {index} | STATS c = COUNT(*)"})
    assert allowed.json()["values"] == [[3]]


@pytest.fixture(scope="module")
def es(base_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(base_url, basic_auth=(ADMIN_USER, ADMIN_PASSWORD), request_timeout=60)
    yield client
    client.close()


def test_official_client_esql_query(es: Elasticsearch, index: str) -> None:
    answer = es.esql.query(query=f"FROM {index} | STATS c = COUNT(*) BY host | SORT host")
    assert answer["columns"] == [{"name": "c", "type": "long"}, {"name": "host", "type": "keyword"}]
    assert answer["values"] == [[2, "a"], [1, "b"]]
    csv = es.esql.query(query=f"FROM {index} | STATS c = COUNT(*)", format="csv")
    assert csv.body == "c\r\n3\r\n"
    with pytest.raises(BadRequestError) as caught:
        es.esql.query(query=f"FROM {index} | WHERE nope > 1")
    assert caught.value.error == "verification_exception"

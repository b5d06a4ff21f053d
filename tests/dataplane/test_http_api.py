"""The ingest routes over raw HTTP: exact bulk shapes, whole-request failures, filter_path,
index routes, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from tests.support.clients import unique_name

if TYPE_CHECKING:
    from tests.support.clients import TestUser

pytestmark = pytest.mark.backend_independent
NDJSON = {"content-type": "application/x-ndjson"}


def ndjson(*lines: object) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def test_bulk_item_shapes_match_elasticsearch(admin: httpx.Client) -> None:
    index = unique_name("shape")
    body = ndjson({"index": {"_index": index, "_id": "a"}}, {"x": 1}, {"create": {"_id": "b"}}, {"x": 2})
    response = admin.post(f"/{index}/_bulk", content=body, headers=NDJSON, params={"refresh": "wait_for"})
    assert response.status_code == 200
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    result = response.json()
    assert set(result) == {"errors", "took", "items"} and result["errors"] is False
    assert result["items"][0] == {
        "index": {
            "_index": index,
            "_id": "a",
            "_version": 1,
            "result": "created",
            "_shards": {"total": 1, "successful": 1, "failed": 0},
            "_seq_no": 0,
            "_primary_term": 1,
            "status": 201,
        }
    }
    assert result["items"][1]["create"]["_seq_no"] == 1


def test_a_bad_source_line_fails_its_item_only(admin: httpx.Client) -> None:
    index = unique_name("badsrc")
    body = ndjson({"index": {"_index": index}}, {"x": 1}) + b'{"index":{}}\n{"x": \n' + ndjson({"index": {}}, {"x": 3})
    result = admin.post(f"/{index}/_bulk", content=body, headers=NDJSON).json()
    assert result["errors"] is True
    assert [next(iter(i.values()))["status"] for i in result["items"]] == [201, 400, 201]
    error = result["items"][1]["index"]["error"]
    assert error["type"] == "document_parsing_exception"
    assert error["caused_by"]["type"] == "x_content_parse_exception"


@pytest.mark.parametrize(
    ("body", "error_type", "reason"),
    [
        (b'{"index": \n{"x":1}\n', "x_content_parse_exception", "Malformed action/metadata line [1]"),
        (b'{"frobnicate":{}}\n{"x":1}\n', "illegal_argument_exception", "expected field [create], [delete], [index]"),
        (b'{"index":{"_index":"a","bogus":1}}\n{}\n', "illegal_argument_exception", "unknown parameter [bogus]"),
        (b'{"index":{"_index":"a"}}\n{"x":1}', "illegal_argument_exception", "must be terminated by a newline"),
        (b'{"index":{}}\n{"x":1}\n', "action_request_validation_exception", "index is missing"),
        (b"", "parse_exception", "request body is required"),
    ],
)
def test_malformed_requests_fail_whole(admin: httpx.Client, body: bytes, error_type: str, reason: str) -> None:
    response = admin.post("/_bulk", content=body, headers=NDJSON)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == error_type
    assert reason in error["reason"]
    assert error["root_cause"][0]["type"] == error_type


def test_update_and_delete_answer_a_clear_per_item_error(admin: httpx.Client) -> None:
    index = unique_name("upd")
    body = ndjson({"index": {"_index": index, "_id": "1"}}, {"x": 1}, {"delete": {"_index": index, "_id": "1"}})
    body += ndjson({"update": {"_index": index, "_id": "1"}}, {"doc": {"x": 2}})
    result = admin.post("/_bulk", content=body, headers=NDJSON).json()
    assert list(result["items"][1]) == ["delete"] and list(result["items"][2]) == ["update"]
    for item in result["items"][1:]:
        detail = next(iter(item.values()))
        assert detail["status"] == 400
        assert "does not support the bulk" in detail["error"]["reason"]


def test_filter_path_as_beats_send_it(admin: httpx.Client) -> None:
    index = unique_name("beats")
    body = ndjson({"create": {"_index": index}}, {"n": 1}, {"create": {"_index": index}}, {"n": "x"})
    result = admin.post(
        "/_bulk", content=body, headers=NDJSON, params={"filter_path": "errors,items.*.error,items.*.status"}
    ).json()
    assert result["errors"] is True
    assert result["items"][0] == {"create": {"status": 201}}
    assert set(result["items"][1]["create"]) == {"status", "error"}


def test_single_document_routes(admin: httpx.Client) -> None:
    index = unique_name("docs")
    created = admin.post(f"/{index}/_doc", json={"a": 1})
    assert created.status_code == 201 and created.json()["result"] == "created"
    put = admin.put(f"/{index}/_doc/x", json={"a": 2})
    assert put.status_code == 201
    replaced = admin.put(f"/{index}/_doc/x", json={"a": 3})
    assert replaced.status_code == 200 and replaced.json()["_version"] == 2
    conflict = admin.put(f"/{index}/_create/x", json={"a": 4})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["type"] == "version_conflict_engine_exception"
    bad = admin.post(f"/{index}/_doc", json={"a": "text"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "document_parsing_exception"


def test_index_routes_and_patterns(admin: httpx.Client) -> None:
    prefix = unique_name("pat")
    for suffix in ("a", "b", "c"):
        assert (
            admin.put(f"/{prefix}-{suffix}", json={"mappings": {"properties": {"v": {"type": "keyword"}}}}).status_code
            == 200
        )
    again = admin.put(f"/{prefix}-a")
    assert again.status_code == 400 and again.json()["error"]["type"] == "resource_already_exists_exception"
    mapping = admin.get(f"/{prefix}-*,-{prefix}-b/_mapping").json()
    assert sorted(mapping) == [f"{prefix}-a", f"{prefix}-c"]
    rows = admin.get(f"/_cat/indices/{prefix}-*", params={"format": "json", "h": "index"}).json()
    assert rows == [{"index": f"{prefix}-a"}, {"index": f"{prefix}-b"}, {"index": f"{prefix}-c"}]
    assert admin.head(f"/{prefix}-a").status_code == 200
    assert admin.head(f"/{prefix}-zzz").status_code == 404
    assert admin.delete(f"/{prefix}-*").status_code == 400  # destructive_requires_name
    assert admin.delete(f"/{prefix}-a,{prefix}-b").json() == {"acknowledged": True}
    missing = admin.get(f"/{prefix}-a/_mapping")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "index_not_found_exception"
    invalid = admin.put("/_hidden-ish")
    assert invalid.status_code == 400 and invalid.json()["error"]["type"] == "invalid_index_name_exception"
    assert admin.put("/logs-web-default").json()["error"]["reason"].startswith("cannot create index with name")


def test_kibana_and_security_routes_are_not_shadowed(admin: httpx.Client) -> None:
    assert admin.get("/_security/_authenticate").json()["username"] == "elastic"
    assert admin.get("/api/status").status_code == 200


def test_ingest_role_writes_but_cannot_read(make_user: Callable[..., TestUser]) -> None:
    shipper = make_user("ingest")
    index = unique_name("shipped")
    response = shipper.client.post("/_bulk", content=ndjson({"create": {"_index": index}}, {"a": 1}), headers=NDJSON)
    assert response.status_code == 200 and response.json()["errors"] is False
    for path in ("/_cat/indices", f"/{index}/_mapping", f"/{index}/_field_caps?fields=*"):
        denied = shipper.client.get(path)
        assert denied.status_code == 403, path
        assert denied.json()["error"]["type"] == "security_exception"
        assert "is unauthorized for user" in denied.json()["error"]["reason"]


def test_viewer_reads_but_cannot_write(make_user: Callable[..., TestUser], admin: httpx.Client) -> None:
    index = unique_name("viewed")
    admin.post(f"/{index}/_doc", json={"a": 1})
    viewer = make_user("viewer")
    assert viewer.client.get(f"/{index}/_mapping").status_code == 200
    assert viewer.client.get("/_cat/indices", params={"format": "json"}).status_code == 200
    for method, path in (
        ("POST", "/_bulk"),
        ("POST", f"/{index}/_doc"),
        ("PUT", f"/{index}-2"),
        ("DELETE", f"/{index}"),
    ):
        denied = viewer.client.request(
            method, path, content=ndjson({"create": {"_index": index}}, {"a": 1}), headers=NDJSON
        )
        assert denied.status_code == 403, (method, path)


def test_anonymous_gets_elasticsearchs_401(base_url: str) -> None:
    response = httpx.post(f"{base_url}/_bulk", content=ndjson({"create": {"_index": "x"}}, {"a": 1}), headers=NDJSON)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "security_exception"
    assert response.json()["status"] == 401
    assert "WWW-Authenticate" in response.headers

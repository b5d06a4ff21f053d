"""The official `elasticsearch` Python client, unchanged, against the session's real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.support.clients import unique_name

pytestmark = pytest.mark.backend_independent


@pytest.fixture(scope="module")
def es(base_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(base_url, basic_auth=(ADMIN_USER, ADMIN_PASSWORD), request_timeout=60)
    yield client
    client.close()


def test_info_answers_like_elasticsearch(es: Elasticsearch) -> None:
    info = es.info()
    assert info["tagline"] == "You Know, for Search"
    assert info["version"]["number"].split(".")[0] in ("8", "9")


def test_create_index_bulk_helpers_and_read_back(es: Elasticsearch) -> None:
    index = unique_name("web")
    created = es.indices.create(index=index, mappings={"properties": {"http.status": {"type": "integer"}}})
    assert created.body == {"acknowledged": True, "shards_acknowledged": True, "index": index}
    actions = (
        {"_index": index, "_source": {"@timestamp": f"2024-02-01T00:00:{i:02d}Z", "http": {"status": 200 + i}}}
        for i in range(50)
    )
    assert helpers.bulk(es, actions, chunk_size=20) == (50, [])
    single = es.index(index=index, id="fixed", document={"@timestamp": "2024-02-02T00:00:00Z", "http.status": 500})
    assert single["result"] == "created" and single["_version"] == 1 and single["_id"] == "fixed"
    again = es.index(index=index, id="fixed", document={"@timestamp": "2024-02-02T00:00:00Z", "http.status": 501})
    assert again["result"] == "updated" and again["_version"] == 2

    rows = es.cat.indices(index=index, format="json")
    assert [(row["index"], row["docs.count"], row["health"]) for row in rows] == [(index, "51", "green")]
    text = es.cat.indices(index=index, v=True, h="index,docs.count")
    header, line = str(text).splitlines()
    assert header.split() == ["index", "docs.count"] and line.split() == [index, "51"]

    caps = es.field_caps(index=index, fields="*")
    assert caps["indices"] == [index]
    assert caps["fields"]["http.status"] == {
        "integer": {"type": "integer", "metadata_field": False, "searchable": True, "aggregatable": True}
    }
    assert caps["fields"]["http"]["object"]["type"] == "object"
    assert caps["fields"]["@timestamp"]["date"]["aggregatable"] is True

    mapping = es.indices.get_mapping(index=index)
    assert mapping[index]["mappings"]["properties"]["http"] == {"properties": {"status": {"type": "integer"}}}
    assert es.indices.exists(index=index)
    assert es.indices.delete(index=index)["acknowledged"] is True
    assert not es.indices.exists(index=index)


def test_bulk_errors_surface_per_item(es: Elasticsearch) -> None:
    index = unique_name("errs")
    response = es.bulk(
        operations=[
            {"create": {"_index": index, "_id": "1"}},
            {"n": 1},
            {"create": {"_index": index, "_id": "1"}},
            {"n": 2},
            {"index": {"_index": index}},
            {"n": "not a number"},
        ]
    )
    assert response["errors"] is True
    statuses = [next(iter(item.values()))["status"] for item in response["items"]]
    assert statuses == [201, 409, 400]
    assert response["items"][1]["create"]["error"]["type"] == "version_conflict_engine_exception"
    assert response["items"][2]["index"]["error"]["type"] == "document_parsing_exception"
    with pytest.raises(helpers.BulkIndexError) as caught:
        helpers.bulk(es, [{"_index": index, "_op_type": "create", "_id": "1", "_source": {"n": 3}}])
    assert caught.value.errors[0]["create"]["status"] == 409


def test_data_stream_by_name(es: Elasticsearch) -> None:
    name = f"logs-{unique_name('app').replace('_', '')}-default"
    ok, _ = helpers.bulk(
        es, [{"_op_type": "create", "_index": name, "_source": {"@timestamp": "2024-03-03T00:00:00Z", "a": 1}}]
    )
    assert ok == 1
    rows = es.cat.indices(index=name, format="json")
    assert len(rows) == 1 and rows[0]["index"].startswith(f".ds-{name}-")
    assert es.indices.exists(index=name)
    caps = es.field_caps(index=name, fields="a")
    assert caps["fields"]["a"]["long"]["type"] == "long"


def test_missing_index_is_elasticsearchs_404(es: Elasticsearch) -> None:
    with pytest.raises(NotFoundError) as caught:
        es.indices.get_mapping(index=unique_name("missing"))
    assert caught.value.body["error"]["type"] == "index_not_found_exception"
    with pytest.raises(ApiError) as invalid:
        es.indices.create(index="Bad")
    assert invalid.value.body["error"]["type"] == "invalid_index_name_exception"

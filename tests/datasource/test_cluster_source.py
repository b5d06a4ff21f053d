"""The Elasticsearch data source against a real peer: ES|QL results, warnings, field metadata,
category values and errors equal what the peer's own (embedded) data source gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch, NotFoundError

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.datasource.conftest import ALERTS, OTHER_SPACE_ALERTS, STREAM, WEB, Peer, bulk_load, cluster_settings
from tests.support.clients import kibana_client, unique_name
from vigil.dataplane.errors import IndexNotFoundError
from vigil.datasource import DataIndex, open_data_source
from vigil.datasource.elasticsearch import ElasticsearchDataSource
from vigil.esql.errors import EsqlExecutionError, EsqlParsingError, EsqlVerificationError
from vigil.esql.executor import EsqlResult

pytestmark = pytest.mark.backend_independent

ADMIN = {"elasticsearch_username": ADMIN_USER, "elasticsearch_password": ADMIN_PASSWORD}

QUERIES = [
    f"FROM {WEB} | STATS hits = COUNT(*), bytes = SUM(http.bytes) BY host.name | SORT host.name",
    f"FROM {WEB} | SORT @timestamp | KEEP @timestamp, host.ip, latency, ok, message",
    f"FROM {WEB} | WHERE http.status >= 400 | EVAL slow = latency > 1 | KEEP host.name, http.status, slow",
    f"FROM {STREAM} | SORT @timestamp | KEEP @timestamp, service.name, tags, message",
    f"FROM {STREAM} | MV_EXPAND tags | STATS n = COUNT(*) BY tags | SORT tags",
    f"FROM {WEB}, {STREAM} METADATA _index | STATS n = COUNT(*) BY _index | SORT _index",
    f"FROM {ALERTS} | KEEP kibana.alert.rule.name, kibana.alert.severity",
    f"FROM {WEB} | STATS n = COUNT(*) BY p = BUCKET(@timestamp, 1 hour) | SORT p",
    f'FROM {WEB} | DISSECT message "%{{method}} %{{path}}" | KEEP method, path | SORT path',
    "ROW a = [3, 1, 2], b = null | EVAL s = MV_SORT(a), c = COALESCE(b, 7)",
]


def same(left: EsqlResult, right: EsqlResult) -> None:
    assert left.columns == right.columns
    assert left.values == right.values
    assert left.warnings == right.warnings


@pytest.mark.parametrize("query", QUERIES)
def test_results_come_through_identically(cluster: ElasticsearchDataSource, peer: Peer, query: str) -> None:
    forwarded = cluster.esql(query)
    assert forwarded.values, "every query here returns rows"
    same(forwarded, peer.source.esql(query))


@pytest.mark.parametrize(
    ("query", "params"),
    [
        (f"FROM {WEB} | WHERE http.status > ? AND host.name == ? | KEEP http.bytes", [300, "web-2"]),
        (f"FROM {WEB} | WHERE host.name == ?host | STATS n = COUNT(*)", [{"host": "web-1"}]),
        (f"FROM {WEB} | WHERE host.name == ?host | STATS n = COUNT(*)", {"host": "web-1"}),
    ],
)
def test_params_come_through(cluster: ElasticsearchDataSource, peer: Peer, query: str, params: Any) -> None:
    same(cluster.esql(query, params), peer.source.esql(query, params))


def test_warnings_come_through_with_their_quotes(cluster: ElasticsearchDataSource, peer: Peer) -> None:
    # The message holds quotes and a comma: the Warning header's escaping must be undone exactly.
    query = f'FROM {WEB} | WHERE host.name == "web-2" | EVAL n = TO_INTEGER(message) | KEEP n'
    forwarded = cluster.esql(query)
    assert forwarded.values == [[None]]
    assert len(forwarded.warnings) == 2
    assert forwarded.warnings[1].endswith('For input string: "POST /pay failed: "card declined", retry"')
    same(forwarded, peer.source.esql(query))


def fields_by_type(indices: list[DataIndex]) -> dict[str, dict[str, str]]:
    return {index.name: {name: field.es_type for name, field in index.fields.items()} for index in indices}


@pytest.mark.parametrize("expression", ["*", f"{WEB},{STREAM}", "logs-*", f"{ALERTS}*", "*,-web", ".alerts-*,we*"])
def test_field_metadata_comes_through(cluster: ElasticsearchDataSource, peer: Peer, expression: str) -> None:
    forwarded = cluster.resolve(expression)
    expected = peer.source.resolve(expression)
    assert sorted(index.name for index in forwarded) == sorted(index.name for index in expected)
    assert fields_by_type(forwarded) == fields_by_type(expected)


def test_field_metadata_names_what_queries_use(cluster: ElasticsearchDataSource) -> None:
    indices = {index.name: index for index in cluster.resolve("*")}
    # The data stream by its own name (not its backing index), hidden indices only when named.
    assert sorted(indices) == [STREAM, WEB]
    web = indices[WEB].fields
    assert {name: web[name].es_type for name in ("host.ip", "http.status", "message", "message.keyword")} == {
        "host.ip": "ip",
        "http.status": "integer",
        "message": "text",
        "message.keyword": "keyword",
    }
    assert "host" not in web and "_id" not in web  # objects and metadata fields are not fields to query
    # Elasticsearch does not say which fields hold arrays; the embedded store does.
    assert indices[STREAM].fields["tags"].multi_valued is False


def test_wildcards_matching_nothing_and_missing_names(cluster: ElasticsearchDataSource, peer: Peer) -> None:
    assert cluster.resolve("nothing-*") == [] == peer.source.resolve("nothing-*")
    with pytest.raises(IndexNotFoundError) as forwarded:
        cluster.resolve(f"{WEB},missing")
    with pytest.raises(IndexNotFoundError) as embedded:
        peer.source.resolve(f"{WEB},missing")
    assert forwarded.value.status_code == 404 and forwarded.value.message == embedded.value.message
    assert forwarded.value.index == "missing"


def test_category_values_come_through(cluster: ElasticsearchDataSource, peer: Peer) -> None:
    fields = ["service.name", "log.level", "tags", "message", "@timestamp"]
    forwarded = cluster.category_values(STREAM, fields, 5)
    assert forwarded == {"service.name": ["cart", "checkout"], "log.level": ["error", "info"], "tags": ["eu", "pay"]}
    assert forwarded == peer.source.category_values(STREAM, fields, 5)
    assert cluster.category_values(STREAM, fields, 1) == {} == peer.source.category_values(STREAM, fields, 1)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (f"FROM {WEB} | WHERE nope > 1", EsqlVerificationError),
        (f"FROM {WEB} | STATS x = AVG(message)", EsqlVerificationError),
        ("FROM missing_index", EsqlVerificationError),
        (f"FROM {WEB} | WHERE", EsqlParsingError),
        (f"FROM {WEB} |\n  EVAL x = 1 +", EsqlParsingError),
        (f'FROM {WEB} | WHERE message RLIKE "(" | KEEP message', EsqlExecutionError),
    ],
)
def test_errors_come_through_identically(
    cluster: ElasticsearchDataSource, peer: Peer, query: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as forwarded:
        cluster.esql(query)
    with pytest.raises(error) as embedded:
        peer.source.esql(query)
    assert str(forwarded.value) == str(embedded.value)
    assert getattr(forwarded.value, "es_type", None) == getattr(embedded.value, "es_type", None)
    if isinstance(embedded.value, EsqlParsingError):
        assert isinstance(forwarded.value, EsqlParsingError)
        assert (forwarded.value.line, forwarded.value.column) == (embedded.value.line, embedded.value.column)


def test_the_peer_resolves_index_names_as_elasticsearch_does(peer: Peer) -> None:
    with Elasticsearch(peer.url, basic_auth=(ADMIN_USER, ADMIN_PASSWORD)) as es:
        body = es.indices.resolve_index(name="*,.alerts-*").body
        backing = body["data_streams"][0]["backing_indices"]
        assert body == {
            "indices": [
                {"name": ALERTS, "attributes": ["hidden", "open"]},
                {"name": OTHER_SPACE_ALERTS, "attributes": ["hidden", "open"]},
                {"name": WEB, "attributes": ["open"]},
            ],
            "aliases": [],
            "data_streams": [{"name": STREAM, "backing_indices": backing, "timestamp_field": "@timestamp"}],
        }
        assert len(backing) == 1 and backing[0].startswith(f".ds-{STREAM}-")
        with pytest.raises(NotFoundError):
            es.indices.resolve_index(name="missing")


def test_fields_are_reread_after_the_cache_time(peer: Peer, tmp_path: Path) -> None:
    index = ".cache-" + unique_name("probe").lower()
    cached = open_data_source(cluster_settings(peer.url, tmp_path))
    fresh = open_data_source(cluster_settings(peer.url, tmp_path, **ADMIN, elasticsearch_metadata_cache_seconds=0))
    assert isinstance(cached, ElasticsearchDataSource) and isinstance(fresh, ElasticsearchDataSource)
    with kibana_client(peer.url, auth=(ADMIN_USER, ADMIN_PASSWORD)) as admin:
        bulk_load(admin, index, [{"first": "a"}])
        assert set(cached.fields(index)) == set(fresh.fields(index)) == {"first"}
        bulk_load(admin, index, [{"first": "b", "second": 2}])
    assert set(cached.fields(index)) == {"first"}  # within elasticsearch_metadata_cache_seconds
    assert set(fresh.fields(index)) == {"first", "second"}
    cached.close()
    fresh.close()

"""The DuckDB store on its own: mapping, coercion, multi-values, ids, data streams, resolution,
persistence, partition pruning and retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigil.dataplane.errors import IndexNotFoundError, InvalidIndexNameError, MapperParsingError
from vigil.dataplane.retention import enforce_retention
from vigil.dataplane.store import DataStore, WriteOp

pytestmark = pytest.mark.backend_independent


@pytest.fixture
def store() -> DataStore:
    opened = DataStore.open(None)
    yield opened
    opened.close()


def rows(store: DataStore, sql: str) -> list[tuple]:
    with store.reader() as cursor:
        return cursor.execute(sql).fetchall()


def test_dynamic_mapping_follows_the_documented_rules(store: DataStore) -> None:
    results = store.index_documents(
        "events",
        [
            {
                "@timestamp": "2024-03-01T10:00:00.123Z",
                "message": "user logged in",
                "host": {"name": "web-1", "ip": "10.0.0.7"},
                "source.ip": "not an address",
                "event": {"duration": 12, "risk": 0.5, "success": True},
                "tags": [],
                "nothing": None,
            }
        ],
    )
    assert [r.status for r in results] == [201]
    fields = store.catalog.index("events").fields
    assert {name: f.es_type for name, f in fields.items()} == {
        "@timestamp": "date",
        "message": "text",
        "host.name": "keyword",
        "host.ip": "ip",
        "source.ip": "keyword",  # an *.ip name whose value is no address stays keyword
        "event.duration": "long",
        "event.risk": "double",
        "event.success": "boolean",
    }
    assert store.mapping("events").to_es()["properties"]["host"] == {
        "properties": {"ip": {"type": "ip"}, "name": {"type": "keyword"}}
    }
    assert rows(store, 'SELECT "@timestamp", "host.name", "event.risk" FROM "events"') == [
        (datetime(2024, 3, 1, 10, 0, 0, 123000), "web-1", 0.5)
    ]


def test_values_are_coerced_to_the_mapped_type_or_the_document_fails(store: DataStore) -> None:
    store.create_index(
        "typed", {"properties": {"n": {"type": "long"}, "k": {"type": "keyword"}, "b": {"type": "boolean"}}}
    )
    results = store.index_documents(
        "typed",
        [
            {"n": "42", "k": 7, "b": "true"},
            {"n": 2.9, "k": True, "b": False},
            {"n": "forty"},
            {"b": "yes"},
            {"k": {"nested": 1}},
        ],
    )
    assert [r.status for r in results] == [201, 201, 400, 400, 400]
    assert results[2].error.es_type == "document_parsing_exception"
    assert results[2].error.message == (
        f"failed to parse field [n] of type [long] in document with id '{results[2].doc_id}'. "
        "Preview of field's value: 'forty'"
    )
    assert results[3].error.caused_by == {
        "type": "illegal_argument_exception",
        "reason": "Failed to parse value [yes] as only [true] or [false] are allowed.",
    }
    assert "failed to parse field [k] of type [keyword]" in results[4].error.message
    assert sorted(rows(store, 'SELECT n, k, b FROM "typed"')) == [(2, "true", False), (42, "7", True)]
    # A failed document maps nothing: "nested" never reached the mapping.
    assert "k.nested" not in store.catalog.index("typed").fields


def test_a_later_type_conflict_fails_only_that_document(store: DataStore) -> None:
    first = store.index_documents("conflict", [{"port": 443}])
    second = store.index_documents("conflict", [{"port": "https"}, {"port": 80}])
    assert first[0].status == 201
    assert [r.status for r in second] == [400, 201]
    assert store.catalog.index("conflict").fields["port"].es_type == "long"
    object_clash = store.index_documents("conflict", [{"port": {"number": 1}}])
    assert object_clash[0].status == 400
    leaf_clash = store.index_documents("conflict", [{"a": {"b": 1}}, {"a": "x"}])
    assert leaf_clash[1].error.message == (
        "object mapping for [a] tried to parse field [a] as object, but found a concrete value"
    )


def test_multi_values_are_stored_in_doc_values_order(store: DataStore) -> None:
    store.index_documents(
        "multi",
        [
            {"@timestamp": "2024-01-01T00:00:00Z", "tag": "single", "n": 5},
            {
                "@timestamp": "2024-01-02T00:00:00Z",
                "tag": ["b", "a", "b"],
                "n": [3, 1, 3],
                "message": ["second", "first"],
                "ip": ["10.0.0.10", "10.0.0.9", "::1"],
            },
        ],
    )
    fields = store.catalog.index("multi").fields
    assert fields["tag"].multi_valued and fields["n"].multi_valued and fields["message"].multi_valued
    # Rows written before the field became multi-valued now hold one-element lists.
    assert rows(store, 'SELECT tag, n, message, ip FROM "multi" ORDER BY "@timestamp"') == [
        (["single"], [5], None, None),
        (["a", "b"], [1, 3, 3], ["second", "first"], ["::1", "10.0.0.9", "10.0.0.10"]),
    ]


def test_objects_in_arrays_and_dotted_keys_flatten_to_one_field(store: DataStore) -> None:
    store.index_documents("flat", [{"user": [{"name": "a"}, {"name": "b"}], "host.name": "h", "host": {"id": "1"}}])
    fields = store.catalog.index("flat").fields
    assert set(fields) == {"user.name", "host.name", "host.id"}
    assert rows(store, 'SELECT "user.name", "host.name", "host.id" FROM "flat"') == [(["a", "b"], "h", "1")]


def test_field_names_differing_only_in_case_are_refused(store: DataStore) -> None:
    results = store.index_documents("cased", [{"User": "a"}, {"user": "b"}])
    assert results[0].status == 201
    assert results[1].status == 400
    assert "differs only in case" in results[1].error.message


def test_explicit_ids_create_conflict_and_index_replaces(store: DataStore) -> None:
    results = store.write(
        [
            WriteOp("create", "ids", "a", {"v": 1}),
            WriteOp("create", "ids", "a", {"v": 2}),
            WriteOp("index", "ids", "a", {"v": 3}),
            WriteOp("index", "ids", "b", {"v": 4}),
        ]
    )
    assert [(r.status, r.result, r.version) for r in results] == [
        (201, "created", 1),
        (409, None, None),
        (200, "updated", 2),
        (201, "created", 1),
    ]
    assert results[1].error.message == "[a]: version conflict, document already exists (current version [1])"
    assert [r.seq_no for r in results if r.error is None] == [0, 1, 2]
    later = store.write([WriteOp("index", "ids", "a", {"v": 5}), WriteOp("create", "ids", "b", {"v": 6})])
    assert [(r.status, r.version) for r in later] == [(200, 3), (409, None)]
    assert sorted(rows(store, 'SELECT _id, v FROM "ids"')) == [("a", 5), ("b", 4)]


def test_data_streams_take_creates_with_a_timestamp(store: DataStore) -> None:
    results = store.write(
        [
            WriteOp("create", "logs-nginx-default", None, {"@timestamp": "2024-05-01T00:00:00Z", "a": 1}),
            WriteOp("index", "logs-nginx-default", None, {"@timestamp": "2024-05-01T00:00:00Z"}),
            WriteOp("create", "logs-nginx-default", None, {"a": 2}),
        ]
    )
    assert [r.status for r in results] == [201, 400, 400]
    assert results[0].index.startswith(".ds-logs-nginx-default-")
    assert results[1].error.message == "only write ops with an op_type of create are allowed in data streams"
    assert results[2].error.message == "data stream timestamp field [@timestamp] is missing"
    assert store.kind("logs-nginx-default") == "data_stream"
    backing = results[0].index
    assert [info.name for info in store.catalog.resolve(backing)] == ["logs-nginx-default"]


def test_resolution_follows_elasticsearch(store: DataStore) -> None:
    for name in ("logs-a", "logs-b", "metrics-x", ".hidden"):
        store.index_documents(name, [{"x": 1}])

    def names(expression: str) -> list[str]:
        return sorted(info.name for info in store.catalog.resolve(expression))

    assert names("logs-*") == ["logs-a", "logs-b"]
    assert names("logs-*,-logs-b") == ["logs-a"]
    assert names("*") == ["logs-a", "logs-b", "metrics-x"]
    assert names(".h*") == [".hidden"]
    assert names("logs-a,metrics-x") == ["logs-a", "metrics-x"]
    assert names("nomatch-*") == []
    with pytest.raises(IndexNotFoundError, match=r"no such index \[missing\]"):
        store.catalog.resolve("logs-a,missing")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Upper", "must be lowercase"),
        ("_under", "must not start with '_', '-', or '+'"),
        ("-dash", "must not start with '_', '-', or '+'"),
        ("a*b", "must not contain the following characters"),
        ("a#b", "must not contain '#'"),
        ("a:b", "must not contain ':'"),
        ("..", "must not be '.' or '..'"),
        ("x" * 256, "index name is too long, (256 > 255)"),
    ],
)
def test_index_names_are_validated_as_elasticsearch_does(store: DataStore, name: str, reason: str) -> None:
    with pytest.raises(InvalidIndexNameError) as caught:
        store.create_index(name)
    assert caught.value.message.startswith(f"Invalid index name [{name}], {reason}")
    results = store.index_documents(name, [{"a": 1}])
    assert results[0].error.es_type == "invalid_index_name_exception"


def test_explicit_mappings_are_checked(store: DataStore) -> None:
    with pytest.raises(MapperParsingError, match="nested"):
        store.create_index("bad", {"properties": {"a": {"type": "nested"}}})
    with pytest.raises(MapperParsingError, match="unknown parameter"):
        store.create_index("bad", {"properties": {"a": {"type": "keyword", "bogus": 1}}})
    store.create_index(
        "good",
        {
            "dynamic": "strict",
            "properties": {"msg": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}},
        },
    )
    results = store.index_documents("good", [{"msg": "Hello"}, {"other": 1}])
    assert results[0].status == 201
    assert "mapping set to strict, dynamic introduction of [other]" in results[1].error.message
    assert rows(store, 'SELECT msg, "msg.keyword" FROM "good"') == [("Hello", "Hello")]
    assert store.mapping("good").to_es() == {
        "dynamic": "strict",
        "properties": {"msg": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}},
    }


def test_everything_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "data.duckdb"
    first = DataStore.open(path)
    first.index_documents("kept", [{"@timestamp": "2024-01-01T00:00:00Z", "tag": ["x", "y"]}])
    first.write([WriteOp("create", "kept", "fixed", {"@timestamp": "2024-01-02T00:00:00Z", "tag": "z"})])
    first.close()
    second = DataStore.open(path)
    try:
        assert second.catalog.index("kept").fields["tag"].multi_valued
        assert sorted(rows(second, 'SELECT tag FROM "kept"')) == [(["x", "y"],), (["z"],)]
        again = second.write([WriteOp("create", "kept", "fixed", {"tag": "again"})])
        assert again[0].status == 409
        assert second.write([WriteOp("index", "kept", None, {"tag": "n"})])[0].seq_no == 2
    finally:
        second.close()


def _scanned_tables(store: DataStore, sql: str) -> list[str]:
    """The tables DuckDB's profiler says it really scanned for `sql` (EXPLAIN ANALYZE)."""
    with store.reader() as cursor:
        plan = json.loads(cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).fetchall()[0][1])
    tables: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            kind = node.get("type") or node.get("operator_type")
            if kind == "TABLE_SCAN":
                tables.append(str(node["extra_info"]["Table"]).split(".", 2)[-1].strip('"'))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return tables


def test_a_day_filter_scans_only_that_days_partition(store: DataStore) -> None:
    documents = [
        {"@timestamp": f"2024-01-{day:02d}T{hour:02d}:00:00Z", "n": day * 100 + hour}
        for day in range(1, 31)
        for hour in range(0, 24, 6)
    ]
    store.index_documents("pruned", documents)
    sql = (
        'SELECT count(*), min(n) FROM "pruned" WHERE "@timestamp" >= TIMESTAMP \'2024-01-05 00:00:00\' '
        "AND \"@timestamp\" < TIMESTAMP '2024-01-06 00:00:00'"
    )
    assert rows(store, sql) == [(4, 500)]
    assert _scanned_tables(store, sql) == ["pruned/2024-01-05"]
    assert len(_scanned_tables(store, 'SELECT count(*) FROM "pruned"')) == 30


def test_retention_drops_whole_old_days(store: DataStore) -> None:
    store.write(
        [
            WriteOp("create", "aged", "old", {"@timestamp": "2024-01-01T12:00:00Z"}),
            WriteOp("create", "aged", None, {"@timestamp": "2024-01-09T12:00:00Z"}),
            WriteOp("create", "aged", None, {"@timestamp": "2024-01-10T00:00:00Z"}),
            WriteOp("create", "aged", None, {"untimed": True}),
        ]
    )
    dropped = enforce_retention(store, "1d", now=datetime(2024, 1, 10, 12, 0, tzinfo=UTC))
    assert dropped == ["aged/2024-01-01"]  # the 9th ends after the cutoff (9th 12:00), so it stays
    assert rows(store, 'SELECT count(*) FROM "aged"') == [(3,)]
    # The id of a dropped document is free again.
    assert store.write([WriteOp("create", "aged", "old", {"@timestamp": "2024-01-10T01:00:00Z"})])[0].status == 201


def test_the_retention_loop_runs_until_cancelled() -> None:
    import asyncio

    from vigil.dataplane.retention import start_retention
    from vigil.settings import Settings

    store = DataStore.open(None)
    store.index_documents("loop", [{"@timestamp": "2001-01-01T00:00:00Z"}, {"@timestamp": "2999-01-01T00:00:00Z"}])
    settings = Settings(data_retention="30d", data_retention_check_interval_seconds=1)

    async def run() -> None:
        task = start_retention(store, settings)
        assert task is not None
        for _ in range(100):  # the first run happens at once
            await asyncio.sleep(0.05)
            if rows(store, 'SELECT count(*) FROM "loop"') == [(1,)]:
                break
        task.cancel()

    asyncio.run(run())
    assert rows(store, 'SELECT year("@timestamp") FROM "loop"') == [(2999,)]
    assert start_retention(store, Settings()) is None  # unset: no task
    store.close()


def test_retention_setting_is_validated() -> None:
    from pydantic import ValidationError

    from vigil.settings import Settings

    with pytest.raises(ValidationError, match=r"data_retention"):
        Settings(data_retention="thirty days")
    assert Settings(data_retention="12h").data_retention == "12h"

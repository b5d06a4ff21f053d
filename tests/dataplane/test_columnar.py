"""The columnar lane (DuckDB converts a whole batch) must store exactly what the per-document
lane (RowBuilder) stores, and fail exactly the documents it fails: same documents, both lanes."""

from __future__ import annotations

import orjson
import pytest

from vigil.dataplane.bulk import bulk_response, parse_bulk, run_bulk
from vigil.dataplane.store import DataStore

pytestmark = pytest.mark.backend_independent

MAPPING = {
    "properties": {
        "seq": {"type": "long"},
        "@timestamp": {"type": "date"},
        "host": {"properties": {"name": {"type": "keyword"}, "ip": {"type": "ip"}}},
        "count": {"type": "long"},
        "small": {"type": "byte"},
        "ratio": {"type": "double"},
        "ok": {"type": "boolean"},
        "message": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
        "tags": {"type": "keyword"},
        "ports": {"type": "integer"},
    }
}

# Each line is one document's source exactly as a shipper might send it.
TRICKY = [
    '{"host": {"name": "web-1", "ip": "10.0.0.1"}, "count": 5}',
    '{"host": {"name": 42}, "ok": "true"}',
    '{"count": "17", "ratio": "0.5"}',
    '{"count": 2.9, "ratio": 3}',
    '{"count": "x"}',
    '{"small": 300}',
    '{"host": {"name": 1.5}}',
    '{"host": {"name": "esc\\"aped\\\\ \\u00e9"}}',
    '{"host": {"name": "ünïcødé ✓"}}',
    '{"host": {"ip": "::ffff:10.0.0.1"}}',
    '{"host": {"ip": "2001:db8::1"}}',
    '{"host": {"ip": "010.0.0.1"}}',
    '{"host": "flat"}',
    '{"host": {}}',
    '{"host": null, "count": null}',
    '{"host.name": "dotted"}',
    '{"@timestamp": "2024-01-02T03:04:05.678+02:00"}',
    '{"@timestamp": "2024-01-02"}',
    '{"@timestamp": 1704164645678}',
    '{"@timestamp": "2024-01-02 03:04:05"}',
    '{"@timestamp": "not a date"}',
    '{"tags": ["b", "a", "b"], "ports": [443, 80, 443]}',
    '{"tags": "single", "ports": 8080}',
    '{"tags": [], "ports": [null]}',
    '{"tags": ["a", ["nested"]]}',
    '{"tags": [{"x": 1}]}',
    '{"ok": 1}',
    '{"ok": false, "message": "free text"}',
    '{"unknown": "field"}',
    '{"host": {"name": "a", "extra": 1}}',
    '{"count": 1, "count": 2}',
    '{"count": 9223372036854775808}',
    '{"ratio": 1e400}',
    '{"message": ["two", "values"]}',
    "[1, 2]",
    "not json",
    "{}",
]


def _ingest_uniform(store: DataStore, index: str, sources: list[str]) -> list[tuple]:
    """Through run_bulk with identical action lines: the uniform lane (no per-document objects)."""
    body = b"".join(
        b'{"index":{}}\n'
        + (source.replace("{", f'{{"seq": {n}, ', 1) if source.startswith("{") and source != "{}" else source).encode()
        + b"\n"
        for n, source in enumerate(sources)
    )
    answer = orjson.loads(run_bulk(store, body, index, None, 0.0))
    items = [item["index"] for item in answer["items"]]
    assert answer["errors"] == any("error" in item for item in items)
    return [
        (
            item["status"],
            item["error"]["type"] if "error" in item else None,
            item["error"]["reason"] if "error" in item else None,
        )
        for item in items
    ]


def _ingest(store: DataStore, index: str, sources: list[str], *, one_by_one: bool) -> list[tuple]:
    lines = [
        (orjson.dumps({"index": {}}) + b"\n" + source.replace("{", f'{{"seq": {n}, ', 1).encode() + b"\n")
        if source.startswith("{") and source != "{}"
        else (b'{"index":{}}\n' + source.encode() + b"\n")
        for n, source in enumerate(sources)
    ]
    if one_by_one:
        results = [store.write(parse_bulk(line, index))[0] for line in lines]
    else:
        results = store.write(parse_bulk(b"".join(lines), index))
    return [(r.status, r.error.es_type if r.error else None, r.error.message if r.error else None) for r in results]


def _rows(store: DataStore, index: str) -> list[tuple]:
    with store.reader() as cursor:
        columns = [f'"{name}"' for name in sorted(store.catalog.index(index).fields)]
        return sorted(cursor.execute(f'SELECT {", ".join(columns)} FROM "{index}"').fetchall(), key=repr)


@pytest.mark.parametrize("repeat", [1, 3])
def test_both_lanes_store_and_fail_the_same_documents(repeat: int) -> None:
    sources = [line for line in TRICKY for _ in range(repeat)]
    # Enough plain documents that the batch takes the columnar lane.
    sources += [f'{{"host": {{"name": "bulk-{i}"}}, "count": {i}, "tags": ["t"]}}' for i in range(80)]
    store = DataStore.open(None)
    try:
        for index in ("fast", "slow", "uniform"):
            store.create_index(index, MAPPING)
            # One document that makes tags and ports multi-valued before the comparison batch.
            _ingest(
                store,
                index,
                ['{"tags": ["x", "y"], "ports": [1, 2], "@timestamp": "2024-01-01T00:00:00Z"}'],
                one_by_one=True,
            )
        fast = _ingest(store, "fast", sources, one_by_one=False)
        slow = _ingest(store, "slow", sources, one_by_one=True)
        uniform = _ingest_uniform(store, "uniform", sources)
        assert [r[:2] for r in uniform] == [r[:2] for r in slow]
        assert store.mapping("uniform").to_es() == store.mapping("slow").to_es()
        assert _rows(store, "uniform") == _rows(store, "slow")
        # Generated ids (named in some messages) differ; everything else must not.
        assert [r[:2] for r in fast] == [r[:2] for r in slow]
        assert [r[2].split(" in document with id")[0] if r[2] else None for r in fast] == [
            r[2].split(" in document with id")[0] if r[2] else None for r in slow
        ]
        assert store.mapping("fast").to_es() == store.mapping("slow").to_es()
        assert _rows(store, "fast") == _rows(store, "slow")
        assert len(fast) == len(sources)
        assert sum(1 for status, _, _ in fast if status == 201) > 80
    finally:
        store.close()


def test_the_columnar_lane_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the test above: a plain batch really goes through DuckDB, not RowBuilder."""
    from vigil.dataplane import documents

    built = 0
    original = documents.RowBuilder.build

    def counting(self: documents.RowBuilder, source: object, doc_id: str) -> dict:
        nonlocal built
        built += 1
        return original(self, source, doc_id)  # type: ignore[arg-type]

    monkeypatch.setattr(documents.RowBuilder, "build", counting)
    store = DataStore.open(None)
    try:
        store.create_index("plain", MAPPING)
        body = b"".join(b'{"create":{}}\n{"count": %d, "host": {"name": "h"}}\n' % i for i in range(200))
        # Into an index that holds no document yet, RowBuilder maps the first 100 of the batch.
        results = store.write(parse_bulk(body, "plain"))
        assert all(r.status == 201 for r in results)
        assert built == 100
        results = store.write(parse_bulk(body, "plain"))
        assert all(r.status == 201 for r in results)
        assert built == 100
        assert [r.seq_no for r in results] == list(range(200, 400))
    finally:
        store.close()


def test_the_uniform_answer_is_the_general_answer() -> None:
    store = DataStore.open(None)
    try:
        store.create_index("answers", MAPPING)
        body = b"".join(b'{"create":{}}\n{"count": %d}\n' % i for i in range(100)) + b'{"create":{}}\n{"count": "x"}\n'
        uniform = orjson.loads(run_bulk(store, body, "answers", None, 0.0))
        ops = parse_bulk(body, "answers")
        general = bulk_response(ops, store.write(ops), 0)
        assert uniform["errors"] is general["errors"] is True
        strip = lambda item: {k: v for k, v in item["create"].items() if k not in ("_id", "_seq_no", "error")}  # noqa: E731
        assert [strip(i) for i in uniform["items"]] == [strip(i) for i in general["items"]]
        assert [i["create"]["_seq_no"] for i in uniform["items"][:100]] == list(range(100))
        assert [i["create"]["_seq_no"] for i in general["items"][:100]] == list(range(100, 200))
        assert uniform["items"][100]["create"]["error"]["type"] == "document_parsing_exception"
        filtered = orjson.loads(run_bulk(store, body, "answers", "errors,items.*.status", 0.0))
        assert filtered["errors"] is True and filtered["items"][0] == {"create": {"status": 201}}
    finally:
        store.close()

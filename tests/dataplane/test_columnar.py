"""The columnar lane (DuckDB converts a whole batch) must store exactly what the per-document
lane (RowBuilder) stores, and fail exactly the documents it fails: same documents, both lanes."""

from __future__ import annotations

import orjson
import pytest

from vigil.dataplane.bulk import parse_bulk
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
        for index in ("fast", "slow"):
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
        results = store.write(parse_bulk(body, "plain"))
        assert all(r.status == 201 for r in results)
        assert built == 0
        assert [r.seq_no for r in results] == list(range(200))
    finally:
        store.close()

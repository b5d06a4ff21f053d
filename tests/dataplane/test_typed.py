"""The typed lane (Arrow parses a batch against the mapping) must answer, store and map exactly
what the columnar lane and the per-document lane (RowBuilder) do, for every batch: one odd
document among plain ones either makes Arrow refuse the batch (the columnar lane takes it) or
is sent to RowBuilder on its own, and the plain documents around it are stored the same."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.dataplane.test_columnar import MAPPING, TRICKY
from vigil.dataplane import store as store_module
from vigil.dataplane.bulk import parse_bulk, run_bulk
from vigil.dataplane.store import DataStore

pytestmark = pytest.mark.backend_independent

# Documents Arrow reads differently from JSON parsers, or that only the typed lane's own checks
# keep away from it (on top of the columnar lane's tricky documents).
TYPED_TRICKY: list[bytes] = [
    b'{"ratio": NaN}',
    b'{"ratio": Infinity}',
    b'{"ratio": -Infinity}',
    b'{"ratio": 1.7976931348623157e309}',
    b'{"ratio": 1e308, "count": -0}',
    b'{"ratio": -0.0}',
    b'{"tags": ["a", null], "ports": [null, 1]}',
    b'{"tags": [], "ports": []}',
    b'{"tags": null}',
    b'{"host": {"name": null}}',
    b'{"host": {"name": null, "ip": null}}',
    b'{"ok": null}',
    b'{"count": 1}{"count": 2}',
    b'{"count": 1} {"count": 2}',
    b'\xef\xbb\xbf{"count": 1}',
    b'\xef\xbb\xbf{"count": 2}',
    b'{"host": {"name": "\xff"}}',
    b'{"host": {"name": "\\ud800"}}',
    b'{"host": {"name": "\\ud83d\\ude00 \\u0000 \\/"}}',
    b'{"message": "tab\there"}',
    b'{"message": "trailing"} ',
    b'{"message": "comma",}',
    b'{"ports": [1, 2,], "tags": ["a" , ]}',
    b'{"@timestamp": "2024-01-02T03:04:05.123456789Z"}',
    b'{"@timestamp": "2024-01-02T03:04:05+0100"}',
    b'{"@timestamp": "2024-01-02T03:04:05.5-05:30"}',
    b'{"@timestamp": "2024-01-02T03:04:05\\u005a"}',
    b'{"host": {"ip": "10.0.0.256"}}',
    b'{"host": {"ip": "\\u0031.2.3.4"}}',
    b'{"small": -128}',
    b'{"small": 128}',
    b'{"count": 1E2}',
    b'{"count": 1.0}',
    b'{"ports": [70000]}',
    b'{"ports": [1, [2]]}',
    b'{"ports": 5}',
    b'{"tags": ["z", "a", "z"], "message": "m", "ok": true}',
    b'{"\\u0063ount": 7}',
    b'{"host": {"name": "a", "name": "b"}}',
]

CASES = [line.encode() for line in TRICKY] + TYPED_TRICKY


def _plain(n: int) -> bytes:
    """A document every lane takes: every field, values of the mapped JSON kinds."""
    return orjson.dumps(
        {
            "@timestamp": f"2024-01-0{1 + n % 3}T0{n % 10}:00:00.{n % 1000:03d}Z",
            "host": {"name": f"bulk-{n % 7}", "ip": f"10.0.{n % 5}.{n % 250}"},
            "count": n,
            "small": n % 100,
            "ratio": n / 7,
            "ok": n % 2 == 0,
            "message": f"plain message {n}",
            "tags": ["t", f"g{n % 3}", "a"],
            "ports": [443, n % 1000],
        }
    )


def _body(sources: list[bytes]) -> bytes:
    lines = []
    for n, source in enumerate(sources):
        # A sequence number in every object document, to line rows up across lanes.
        if source.startswith(b"{") and source != b"{}":
            source = source.replace(b"{", b'{"seq": %d, ' % n, 1)
        lines.append(b'{"create":{}}\n' + source + b"\n")
    return b"".join(lines)


def _not_uniform(body: bytes) -> bytes:
    """The same request with one action line spelled differently: the general bulk path."""
    return body.replace(b'{"create":{}}', b'{"create":{"_index":"general"}}', 1)


def _answer(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    items = [item["create"] for item in answer["items"]]
    assert answer["errors"] == any("error" in item for item in items)
    return [
        (
            item["status"],
            item.get("result"),
            item.get("_version"),
            item["error"]["type"] if "error" in item else None,
            item["error"]["reason"].split(" in document with id")[0] if "error" in item else None,
        )
        for item in items
    ]


def _rows(store: DataStore, index: str) -> list[tuple[Any, ...]]:
    with store.reader() as cursor:
        columns = [f'"{name}"' for name in sorted(store.catalog.index(index).fields)]
        return sorted(cursor.execute(f'SELECT {", ".join(columns)} FROM "{index}"').fetchall(), key=repr)


def _seq_nos(answer: dict[str, Any]) -> list[int | None]:
    return [item["create"].get("_seq_no") for item in answer["items"]]


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("not the typed lane")


def _setup(store: DataStore, index: str) -> None:
    store.create_index(index, MAPPING)
    # tags and ports become multi-valued before the batches under test.
    store.write(parse_bulk(b'{"create":{}}\n{"tags": ["x", "y"], "ports": [1, 2]}\n', index))


@pytest.mark.parametrize(
    ("case", "first"),
    # Alternately first (where a byte-order mark counts) and among the plain documents.
    [(case, number % 2 == 0) for number, case in enumerate(CASES)],
    ids=[repr(case)[2:40] for case in CASES],
)
def test_every_lane_answers_and_stores_the_same(case: bytes, first: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = [_plain(n) for n in range(80)]
    sources = [case, *plain] if first else [*plain[:40], case, *plain[40:]]
    body = _body(sources)
    store = DataStore.open(None)
    try:
        answers = {}
        for index in ("typed", "columnar", "general", "reference"):
            _setup(store, index)
        answers["typed"] = orjson.loads(run_bulk(store, body, "typed", None, 0.0))
        answers["general"] = orjson.loads(run_bulk(store, _not_uniform(body), "general", None, 0.0))
        monkeypatch.setattr(store_module, "TYPED_LANE", False)
        answers["columnar"] = orjson.loads(run_bulk(store, body, "columnar", None, 0.0))
        monkeypatch.setattr(store_module, "_COLUMNAR_MIN_DOCS", 10**9)  # RowBuilder, one document at a time
        answers["reference"] = orjson.loads(run_bulk(store, body, "reference", None, 0.0))
        reference = _answer(answers["reference"])
        assert sum(1 for item in reference if item[0] == 201) >= 80
        for lane in ("typed", "columnar", "general"):
            assert _answer(answers[lane]) == reference, lane
            assert _seq_nos(answers[lane]) == _seq_nos(answers["reference"]), lane
            assert store.mapping(lane).to_es() == store.mapping("reference").to_es(), lane
            assert _rows(store, lane) == _rows(store, "reference"), lane
    finally:
        store.close()


def test_a_plain_batch_takes_the_typed_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the test above: plain batches really go through Arrow, not the other lanes."""
    from vigil.dataplane import documents

    store = DataStore.open(None)
    try:
        _setup(store, "plain")
        monkeypatch.setattr(store_module, "convert_batch", _refuse)
        monkeypatch.setattr(documents.RowBuilder, "build", _refuse)
        for first in (0, 100):
            answer = orjson.loads(run_bulk(store, _body([_plain(n) for n in range(100)]), "plain", None, 0.0))
            assert answer["errors"] is False
            assert _seq_nos(answer) == list(range(first + 1, first + 101))
        with store.reader() as cursor:
            assert cursor.execute('SELECT count(*) FROM "plain"').fetchone() == (201,)
    finally:
        store.close()


@pytest.mark.parametrize(
    "case",
    [
        b'{"ratio": NaN}',
        b"{}",
        b'{"host": {}}',
        b'{"tags": ["a", null]}',
        b'{"@timestamp": "2024-01-02"}',
        b'{"host": {"ip": "2001:db8::1"}}',
        b'{"tags": ["a", "b"], "host": {"ip": "10.0.0.1"}, "ratio": 1.7976931348623157e309}',
    ],
)
def test_the_typed_lane_leaves_single_documents_to_rowbuilder(case: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the comparison: these documents are seen by the typed lane's own checks (Arrow
    takes the batch) and only they go to RowBuilder."""

    planned = 0
    original = store_module.parse_source

    def counting(raw: bytes) -> Any:
        nonlocal planned
        planned += 1
        return original(raw)

    store = DataStore.open(None)
    try:
        _setup(store, "single")
        monkeypatch.setattr(store_module, "convert_batch", _refuse)
        monkeypatch.setattr(store_module, "parse_source", counting)
        run_bulk(store, _body([*[_plain(n) for n in range(80)], case]), "single", None, 0.0)
        assert planned == 1
    finally:
        store.close()


def test_a_refused_batch_skips_the_typed_lane_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    from vigil.dataplane import typed

    attempts = 0
    original = typed.convert_typed

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal attempts
        result = original(*args, **kwargs)
        attempts += result is not None
        return result

    monkeypatch.setattr(store_module, "convert_typed", counting)
    store = DataStore.open(None)
    try:
        _setup(store, "odd")
        odd = _body([b'{"count": "7"}', *[_plain(n) for n in range(100)]])
        plain = _body([_plain(n) for n in range(100)])
        run_bulk(store, odd, "odd", None, 0.0)
        for _ in range(typed.SKIP_AFTER_REFUSAL):
            run_bulk(store, plain, "odd", None, 0.0)
        assert attempts == 0
        run_bulk(store, plain, "odd", None, 0.0)
        assert attempts == 1
    finally:
        store.close()


def _evolving(count: int) -> list[bytes]:
    """A first batch whose fields appear, conflict and turn multi-valued along the way."""
    sources = []
    for n in range(count):
        document: dict[str, Any] = {"@timestamp": f"2024-02-0{1 + n % 2}T00:00:{n % 60:02d}Z", "n": n}
        if n % 3:
            document["host"] = {"name": f"h{n % 4}"}
        if n >= 130:
            document["late"] = "text" if n != 131 else 5  # a keyword that later gets a number
        if n == 140:
            document["host"] = {"name": ["b", "a"]}  # host.name turns multi-valued
        if n == 150:
            document["n"] = "not a number"
        sources.append(orjson.dumps(document))
    return sources


@pytest.mark.parametrize("index", ["fresh", "logs-app-default"])
def test_a_first_batch_maps_as_document_by_document(index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into an index that holds nothing yet, RowBuilder maps the first documents and the lanes
    take the rest: the answer, mapping and rows are those of RowBuilder alone."""
    body = _body(_evolving(300))
    with_id = body.replace(b'{"create":{}}', b'{"create":{"_id":"explicit"}}', 1)
    store = DataStore.open(None)
    try:
        fast = orjson.loads(run_bulk(store, body, index, None, 0.0))
        other = f"{index}-ids"
        general = orjson.loads(run_bulk(store, with_id, other, None, 0.0))
        monkeypatch.setattr(store_module, "_COLUMNAR_MIN_DOCS", 10**9)
        reference = orjson.loads(run_bulk(store, body, f"{index}-reference", None, 0.0))
        reference_ids = orjson.loads(run_bulk(store, with_id, f"{index}-reference-ids", None, 0.0))
        assert sum(1 for item in _answer(reference) if item[0] == 201) >= 290
        assert _answer(fast) == _answer(reference)
        assert _answer(general) == _answer(reference_ids)
        for lane, expected in ((index, f"{index}-reference"), (other, f"{index}-reference-ids")):
            assert store.mapping(lane).to_es() == store.mapping(expected).to_es()
            assert _rows(store, lane) == _rows(store, expected)
    finally:
        store.close()


def test_a_data_stream_batch_requires_timestamps_in_every_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """A data stream's documents without @timestamp fail in the typed lane as in RowBuilder."""
    plain = [_plain(n) for n in range(80)]
    no_timestamp = [
        orjson.dumps({k: v for k, v in orjson.loads(doc).items() if k != "@timestamp"}) for doc in plain[:3]
    ]
    body = _body([*plain[:40], *no_timestamp, *plain[40:]])
    store = DataStore.open(None)
    try:
        names = ("logs-typed-default", "logs-reference-default")
        for name in names:
            store.create_index(name, MAPPING, data_stream=True)
            store.write(parse_bulk(b'{"create":{}}\n' + _plain(999) + b"\n", name))
        with monkeypatch.context() as patch:
            patch.setattr(store_module, "convert_batch", _refuse)  # the typed lane takes the batch
            typed = orjson.loads(run_bulk(store, body, names[0], None, 0.0))
        monkeypatch.setattr(store_module, "_COLUMNAR_MIN_DOCS", 10**9)
        reference = orjson.loads(run_bulk(store, body, names[1], None, 0.0))
        assert [item[0] for item in _answer(reference)].count(400) == 3
        assert _answer(typed) == _answer(reference)
        assert _rows(store, names[0]) == _rows(store, names[1])
    finally:
        store.close()

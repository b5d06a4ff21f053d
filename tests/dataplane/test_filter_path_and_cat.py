"""Response filtering and the _cat table, on their own."""

from __future__ import annotations

import pytest

from vigil.dataplane.cat import cat_indices, format_size
from vigil.dataplane.errors import IllegalArgumentError
from vigil.dataplane.filter_path import apply_filter_path
from vigil.dataplane.store import IndexStats

pytestmark = pytest.mark.backend_independent

BODY = {
    "took": 3,
    "errors": True,
    "items": [
        {"index": {"_index": "a", "_id": "1", "status": 201}},
        {"create": {"_index": "a", "_id": "2", "status": 400, "error": {"type": "t", "reason": "r"}}},
    ],
}


@pytest.mark.parametrize(
    ("filter_path", "expected"),
    [
        ("errors", {"errors": True}),
        ("took,errors", {"took": 3, "errors": True}),
        (
            "items.*.error",
            {"items": [{"create": {"error": {"type": "t", "reason": "r"}}}]},
        ),
        ("items.*.status", {"items": [{"index": {"status": 201}}, {"create": {"status": 400}}]}),
        ("**.reason", {"items": [{"create": {"error": {"reason": "r"}}}]}),
        ("nothing", {}),
        (None, BODY),
    ],
)
def test_filter_path(filter_path: str | None, expected: object) -> None:
    assert apply_filter_path(BODY, filter_path) == expected


def test_sizes_are_written_as_elasticsearch_writes_them() -> None:
    assert [format_size(n, None) for n in (0, 999, 1024, 1536, 5 * 1024**2, 3 * 1024**3)] == [
        "0b",
        "999b",
        "1kb",
        "1.5kb",
        "5mb",
        "3gb",
    ]
    assert format_size(5 * 1024**2, "kb") == "5120"


def test_cat_table_aligns_numbers_right_and_sorts() -> None:
    stats = [IndexStats("zeta", "u1", 5, 0, 0, None), IndexStats("alpha", "u2", 12345, 2048, 0, None)]
    text = cat_indices(stats, h="index,docs.count,store.size", s=None, v=True, bytes_unit=None, as_json=False)
    assert text.splitlines() == [
        "index docs.count store.size",
        "alpha      12345        2kb",
        "zeta           5         0b",
    ]
    by_docs = cat_indices(stats, h="i,dc", s="docs.count:desc", v=False, bytes_unit=None, as_json=True)
    assert by_docs == [{"index": "alpha", "docs.count": "12345"}, {"index": "zeta", "docs.count": "5"}]
    with pytest.raises(IllegalArgumentError):
        cat_indices(stats, h="bogus", s=None, v=False, bytes_unit=None, as_json=True)

"""How Elasticsearch's answers are read, on shapes only a real cluster gives (the Vigil peer has
no aliases, nested objects or conflicting mappings): the examples of Elasticsearch's API docs."""

from __future__ import annotations

import pytest

from vigil.datasource import DataField
from vigil.datasource.elasticsearch import fields_from_caps, resolved_names, warning_texts

pytestmark = pytest.mark.backend_independent


def test_resolved_names_are_what_queries_name() -> None:
    # GET /_resolve/index/f*,remoteCluster1:bar*?expand_wildcards=all (Elasticsearch's example),
    # plus the backing index of the data stream, which a `.ds-*` pattern would also list.
    body = {
        "indices": [
            {"name": "foo_closed", "attributes": ["closed"]},
            {"name": "freeze-index", "aliases": ["f-alias"], "attributes": ["open"]},
            {"name": "remoteCluster1:bar-01", "attributes": ["open"]},
            {"name": ".ds-foo-2099.03.07-000001", "attributes": ["hidden", "open"], "data_stream": "foo"},
        ],
        "aliases": [{"name": "f-alias", "indices": ["freeze-index", "my-index-000001"]}],
        "data_streams": [{"name": "foo", "backing_indices": [".ds-foo-2099.03.07-000001"], "timestamp_field": "@ts"}],
    }
    assert resolved_names(body) == ["f-alias", "foo", "freeze-index", "remoteCluster1:bar-01"]
    assert resolved_names({"indices": [], "aliases": [], "data_streams": []}) == []


def test_fields_from_field_caps() -> None:
    body = {
        "indices": ["index1", "index2", "index3"],
        "fields": {
            # Mapped differently across the indices behind one name (Elasticsearch's example).
            "rating": {
                "long": {"type": "long", "metadata_field": False, "indices": ["index1", "index2"]},
                "keyword": {"type": "keyword", "metadata_field": False, "indices": ["index3"]},
            },
            "title": {"text": {"type": "text", "metadata_field": False}},
            "name": {
                "text": {"type": "text", "metadata_field": False, "indices": ["index1"]},
                "keyword": {"type": "keyword", "metadata_field": False, "indices": ["index2", "index3"]},
            },
            "user": {"object": {"type": "object", "metadata_field": False}},
            "user.id": {"keyword": {"type": "keyword", "metadata_field": False}},
            "comments": {"nested": {"type": "nested", "metadata_field": False}},
            "comments.author": {"keyword": {"type": "keyword", "metadata_field": False}},
            "_id": {"_id": {"type": "_id", "metadata_field": True}},
            "_index": {"_index": {"type": "_index", "metadata_field": True}},
        },
    }
    assert fields_from_caps(body) == {
        "name": DataField("name", "keyword"),  # text and keyword read as keyword in ES|QL
        "rating": DataField("rating", "unsupported"),
        "title": DataField("title", "text"),
        "user.id": DataField("user.id", "keyword"),
    }


def test_warning_headers() -> None:
    # Several `Warning` headers reach the client joined by ", "; texts hold escaped quotes and commas.
    header = (
        '299 Elasticsearch-9.1.0-abc "Line 1:5: evaluation of [TO_INTEGER(x)] failed, treating result as null.", '
        '299 Elasticsearch-9.1.0-abc "Line 1:5: java.lang.NumberFormatException: For input string: \\"a, \\\\b\\""'
        ' "Mon, 01 Jan 2024 00:00:00 GMT"'
    )
    assert warning_texts(header) == [
        "Line 1:5: evaluation of [TO_INTEGER(x)] failed, treating result as null.",
        'Line 1:5: java.lang.NumberFormatException: For input string: "a, \\b"',
    ]
    assert warning_texts(None) == [] == warning_texts("")

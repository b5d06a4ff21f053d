"""`_field_caps`: which fields the resolved indices map, with what type, in Elasticsearch's shape."""

from __future__ import annotations

import re
from typing import Any

from vigil.dataplane.catalog import IndexInfo

_NOT_AGGREGATABLE = frozenset({"text", "match_only_text"})
# Metadata fields Elasticsearch lists for `fields=*`, with their capabilities.
_METADATA = {
    "_id": {"type": "_id", "metadata_field": True, "searchable": True, "aggregatable": False},
    "_index": {"type": "_index", "metadata_field": True, "searchable": True, "aggregatable": True},
}


def _matcher(fields: str) -> re.Pattern[str]:
    alternatives = [
        ".*".join(re.escape(part) for part in pattern.strip().split("*"))
        for pattern in fields.split(",")
        if pattern.strip()
    ]
    return re.compile("^(?:" + "|".join(alternatives) + ")$")


def field_caps(indices: list[tuple[str, IndexInfo]], fields: str) -> dict[str, Any]:
    """`indices`: (name reported, index) pairs; `fields`: comma-separated names or wildcards."""
    matcher = _matcher(fields)
    by_field: dict[str, dict[str, list[str]]] = {}
    for reported, info in indices:
        names: dict[str, str] = {}
        for item in info.fields.values():
            names[item.name] = item.es_type
            parts = item.name.split(".")
            for end in range(1, len(parts)):
                names.setdefault(".".join(parts[:end]), "object")
        for name, es_type in names.items():
            if matcher.match(name):
                by_field.setdefault(name, {}).setdefault(es_type, []).append(reported)
    result: dict[str, Any] = {}
    for name in sorted(by_field):
        types = by_field[name]
        entry: dict[str, Any] = {}
        for es_type, where in sorted(types.items()):
            caps: dict[str, Any] = {
                "type": es_type,
                "metadata_field": False,
                "searchable": es_type != "object",
                "aggregatable": es_type not in _NOT_AGGREGATABLE and es_type != "object",
            }
            if len(types) > 1:
                caps["indices"] = sorted(where)
            entry[es_type] = caps
        result[name] = entry
    if indices:
        for name, caps in _METADATA.items():
            if matcher.match(name):
                result[name] = {caps["type"]: dict(caps)}
    return {"indices": sorted(reported for reported, _ in indices), "fields": result}

"""What the ES|QL engine (and anything else reading data) sees of the store: indices and fields.

This module is the contract between the store and its readers (notes: docs/dataplane.md); it
holds no logic so both sides can depend on it without depending on each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

# Elasticsearch mapping type names: "keyword", "text", "long", "integer", "short", "byte", "double",
# "float", "half_float", "scaled_float", "boolean", "date", "ip", "version", "unsigned_long".
# Physical DuckDB types per name: vigil.dataplane.types.DUCKDB_TYPES.
EsType = str


@dataclass(frozen=True)
class FieldInfo:
    name: str  # dotted ECS name, e.g. "host.name", "@timestamp"
    es_type: EsType
    column: str  # DuckDB column holding it (== name; quote it with double quotes)
    # True when the column is a LIST (T[]) because some document had an array: then every row
    # holds a list (or NULL), values in Elasticsearch doc-values order.
    multi_valued: bool


@dataclass(frozen=True)
class IndexInfo:
    name: str  # concrete index (or data stream) name, e.g. "logs-nginx-default"
    # SQL relation to select from, already quoted; a view over daily partitions whose
    # "@timestamp" filters prune partitions outside the range. Always has column "_id" VARCHAR.
    relation: str
    fields: Mapping[str, FieldInfo]  # every mapped leaf field, by dotted name


class Catalog(Protocol):
    def resolve(self, expression: str) -> list[IndexInfo]:
        """Resolve an index expression as Elasticsearch does: comma lists, wildcards (*),
        exclusions (-pattern), data stream names. Raises IndexNotFoundError(name) when a concrete
        (non-wildcard) name does not exist; wildcards matching nothing resolve to []."""
        ...

    def index(self, name: str) -> IndexInfo | None: ...

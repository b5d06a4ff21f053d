"""What every data source offers its readers: ES|QL, and the indices an expression names with their
fields. Readers (the `/_query` route, the assistant's data tools) depend on this and nothing else,
so the same code runs over the embedded store or an Elasticsearch cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vigil.esql.executor import EsqlResult

# Positional values (`?`, `?1`), or named ones as Elasticsearch takes them (`[{"name": value}]`),
# or a plain dict of named values.
EsqlParams = list[Any] | dict[str, Any] | None


@dataclass(frozen=True)
class DataField:
    name: str  # dotted name, e.g. "host.name"
    es_type: str  # Elasticsearch mapping type ("keyword", "long"...); "unsupported" when mapped differently
    # True when values are known to be lists somewhere (the embedded store tracks it; Elasticsearch
    # does not, so fields of a cluster say False).
    multi_valued: bool = False


@dataclass(frozen=True)
class DataIndex:
    name: str  # what a query names it by: an index, a data stream or an alias
    fields: Mapping[str, DataField]  # every mapped leaf field (metadata fields left out), by name


class DataSource(Protocol):
    """Where Vigil reads data from. Every method blocks (callers run it in a worker thread) and
    raises VigilError subclasses or the ES|QL errors of vigil.esql.errors on failure."""

    def esql(self, query: str, params: EsqlParams = None) -> EsqlResult:
        """Run one ES|QL query. Raises EsqlParsingError / EsqlVerificationError /
        EsqlExecutionError (400s, Elasticsearch's messages) for a bad query."""
        ...

    def resolve(self, expression: str) -> list[DataIndex]:
        """The indices, data streams and aliases an index expression names (comma lists,
        wildcards, `-exclusions`), with their fields, sorted by name. A missing concrete name
        raises IndexNotFoundError; a wildcard matching nothing gives []."""
        ...

    def category_values(self, index: str, fields: Sequence[str], max_distinct: int) -> dict[str, list[str]]:
        """For each of `fields` (keyword fields of `index`) holding between 1 and `max_distinct`
        distinct values: those values as text, sorted. Fields with more are left out."""
        ...

    def close(self) -> None: ...

"""The embedded data source: Vigil's own DuckDB store and ES|QL engine, in this process."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vigil.dataplane.catalog import IndexInfo
from vigil.dataplane.errors import IndexNotFoundError
from vigil.dataplane.store import DataStore
from vigil.datasource.base import DataField, DataIndex, EsqlParams
from vigil.esql.executor import QUERY_TIME_LIMIT_SECONDS, EsqlResult, run_esql


def data_index(info: IndexInfo) -> DataIndex:
    fields = {name: DataField(name, item.es_type, item.multi_valued) for name, item in info.fields.items()}
    return DataIndex(info.name, fields)


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


class EmbeddedDataSource:
    """Reads the DataStore it is given; `open` makes one that owns (and closes) its store."""

    def __init__(
        self,
        store: DataStore,
        *,
        owns_store: bool = False,
        query_time_limit_seconds: float = QUERY_TIME_LIMIT_SECONDS,
    ) -> None:
        self.store = store
        self._owns_store = owns_store
        self.query_time_limit_seconds = query_time_limit_seconds

    @classmethod
    def open(
        cls, path: Path | None, *, query_time_limit_seconds: float = QUERY_TIME_LIMIT_SECONDS
    ) -> EmbeddedDataSource:
        return cls(DataStore.open(path), owns_store=True, query_time_limit_seconds=query_time_limit_seconds)

    def esql(self, query: str, params: EsqlParams = None) -> EsqlResult:
        return run_esql(self.store, query, params, time_limit_seconds=self.query_time_limit_seconds)

    def resolve(self, expression: str) -> list[DataIndex]:
        return [data_index(info) for info in self.store.catalog.resolve(expression)]

    def category_values(self, index: str, fields: Sequence[str], max_distinct: int) -> dict[str, list[str]]:
        info = self.store.catalog.index(index)
        if info is None:
            raise IndexNotFoundError(index)
        keywords = [name for name in fields if name in info.fields and info.fields[name].es_type == "keyword"]
        columns = {name: _quoted(info.fields[name].column) for name in keywords}
        if not columns:
            return {}
        # Two scans whatever the number of fields: approximate counts first, exact values of the
        # small ones second (a count off by a little only moves a field across the threshold).
        with self.store.reader() as cursor:
            estimates = ", ".join(f"approx_count_distinct({c})" for c in columns.values())
            counts = cursor.execute(f"SELECT {estimates} FROM {info.relation}").fetchone()
            small = [
                name for name, count in zip(columns, counts or (), strict=False) if 0 < (count or 0) <= max_distinct
            ]
            if not small:
                return {}
            lists = cursor.execute(
                "SELECT " + ", ".join(f"list(DISTINCT {columns[n]})" for n in small) + f" FROM {info.relation}"
            ).fetchone()
        found: dict[str, list[str]] = {}
        for name, values in zip(small, lists or (), strict=False):
            texts = sorted({_text(v) for v in _flat(values or ()) if v is not None})
            if 0 < len(texts) <= max_distinct:
                found[name] = texts
        return found

    def close(self) -> None:
        if self._owns_store:
            self.store.close()


def _flat(values: Sequence[object]) -> list[object]:
    # A multi-valued column holds lists: its values are their elements.
    flat: list[object] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

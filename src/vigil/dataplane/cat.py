"""`GET /_cat/indices`: Elasticsearch's text table (`v`, `h`, `s`, `bytes`) or `format=json`."""

from __future__ import annotations

from typing import Any

from vigil.dataplane.errors import IllegalArgumentError
from vigil.dataplane.store import IndexStats

COLUMNS = (
    "health",
    "status",
    "index",
    "uuid",
    "pri",
    "rep",
    "docs.count",
    "docs.deleted",
    "store.size",
    "pri.store.size",
    "dataset.size",
)
_ALIASES = {
    "h": "health",
    "s": "status",
    "i": "index",
    "idx": "index",
    "id": "uuid",
    "p": "pri",
    "shards.primary": "pri",
    "r": "rep",
    "shards.replica": "rep",
    "dc": "docs.count",
    "docsCount": "docs.count",
    "dd": "docs.deleted",
    "ss": "store.size",
    "storeSize": "store.size",
    "creation.date": "creation.date",
    "cd": "creation.date",
}
_EXTRA = ("creation.date", "creation.date.string")
_NUMERIC = frozenset({"pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size", "dataset.size"})
_SIZE_UNITS = (("pb", 1 << 50), ("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10))
_BYTES_DIVISORS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}


def format_size(size: int, unit: str | None) -> str:
    if unit is not None:
        return str(size // _BYTES_DIVISORS[unit])
    for suffix, factor in _SIZE_UNITS:
        if size >= factor:
            value = size / factor
            return f"{value:.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{size}b"


def _row(stats: IndexStats, bytes_unit: str | None) -> dict[str, str]:
    from datetime import UTC, datetime

    size = format_size(stats.size_bytes, bytes_unit)
    return {
        "health": "green",
        "status": "open",
        "index": stats.name,
        "uuid": stats.uuid,
        "pri": "1",
        "rep": "0",
        "docs.count": str(stats.docs),
        "docs.deleted": "0",
        "store.size": size,
        "pri.store.size": size,
        "dataset.size": size,
        "creation.date": str(stats.created_ms),
        "creation.date.string": datetime.fromtimestamp(stats.created_ms / 1000, tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%f"
        )[:-3]
        + "Z",
    }


def _columns(h: str | None) -> list[str]:
    if not h:
        return list(COLUMNS)
    columns = []
    for name in (part.strip() for part in h.split(",")):
        column = _ALIASES.get(name, name)
        if column not in COLUMNS and column not in _EXTRA:
            raise IllegalArgumentError(f"header [{name}] is not supported")
        columns.append(column)
    return columns


def cat_indices(
    stats: list[IndexStats], *, h: str | None, s: str | None, v: bool, bytes_unit: str | None, as_json: bool
) -> Any:
    if bytes_unit is not None and bytes_unit not in _BYTES_DIVISORS:
        raise IllegalArgumentError(f"failed to parse setting [bytes] with value [{bytes_unit}]")
    columns = _columns(h)
    rows = [_row(item, bytes_unit) for item in stats]
    for key in reversed([part.strip() for part in (s or "index").split(",") if part.strip()]):
        name, _, order = key.partition(":")
        column = _ALIASES.get(name, name)
        if column not in COLUMNS and column not in _EXTRA:
            raise IllegalArgumentError(f"Unable to sort by unknown sort key `{name}`")
        numeric = column in ("docs.count", "docs.deleted", "creation.date")
        rows.sort(key=lambda r: int(r[column]) if numeric else r[column], reverse=order == "desc")
    if as_json:
        return [{column: row[column] for column in columns} for row in rows]
    table = [[row[column] for column in columns] for row in rows]
    if v:
        table.insert(0, list(columns))
    widths = [max((len(line[i]) for line in table), default=0) for i in range(len(columns))]
    lines = []
    for line_number, line in enumerate(table):
        cells = []
        for i, cell in enumerate(line):
            right = columns[i] in _NUMERIC and not (v and line_number == 0)
            cells.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        lines.append(" ".join(cells))
    return "".join(line + "\n" for line in lines)

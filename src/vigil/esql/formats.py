"""`/_query` response bodies: JSON (row or columnar) and the tabular csv, tsv and txt formats."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from vigil.esql.executor import EsqlResult

TEXT_FORMATS = {"csv": "text/csv", "tsv": "text/tab-separated-values", "txt": "text/plain"}
_ACCEPT = {
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/plain": "txt",
    "application/json": "json",
    "application/yaml": "yaml",
}
MIN_TXT_WIDTH = 15


def negotiate(format_param: str | None, accept: str | None) -> str:
    """The response format: the `format` parameter wins over the Accept header; JSON otherwise."""
    if format_param:
        return format_param.lower()
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in _ACCEPT:
            return _ACCEPT[media]
    return "json"


def json_body(result: EsqlResult, *, columnar: bool, drop_null_columns: bool) -> bytes:
    columns = [{"name": c.name, "type": c.type} for c in result.columns]
    values = result.values
    body: dict[str, Any] = {"took": result.took_ms, "is_partial": False}
    if drop_null_columns:
        keep = [i for i in range(len(columns)) if any(row[i] is not None for row in values)]
        body["all_columns"] = columns
        columns = [columns[i] for i in keep]
        values = [[row[i] for i in keep] for row in values]
    body["columns"] = columns
    if columnar:
        body["values"] = [[row[i] for row in values] for i in range(len(columns))]
    else:
        body["values"] = values
    return orjson.dumps(body)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def csv_body(result: EsqlResult, delimiter: str = ",", header: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if header:
        writer.writerow([c.name for c in result.columns])
    for row in result.values:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def tsv_body(result: EsqlResult, header: bool = True) -> str:
    lines = []
    if header:
        lines.append("\t".join(c.name for c in result.columns))
    for row in result.values:
        lines.append("\t".join(_cell(v).replace("\t", "\\t").replace("\n", "\\n") for v in row))
    return "\n".join(lines) + "\n"


def txt_body(result: EsqlResult, header: bool = True) -> str:
    """The CLI-like table: centred headers, left-aligned cells, columns at least 15 wide."""
    cells = [[_cell(v) for v in row] for row in result.values]
    widths = []
    for i, column in enumerate(result.columns):
        width = max([MIN_TXT_WIDTH, len(column.name), *(len(row[i]) for row in cells)])
        widths.append(width)
    lines = []
    if header:
        names = []
        for column, width in zip(result.columns, widths, strict=True):
            left = (width - len(column.name)) // 2
            names.append(" " * left + column.name + " " * (width - len(column.name) - left))
        lines.append("|".join(names))
        lines.append("+".join("-" * w for w in widths))
    for row in cells:
        lines.append("|".join(value.ljust(width) for value, width in zip(row, widths, strict=True)))
    return "\n".join(lines) + "\n"

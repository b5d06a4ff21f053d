"""A compact, CSV-like rendering of rows for the model: the header names each field once, one
line per row, so a hundred alerts cost a fraction of Kibana's `field,value` line per field."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

MAX_CELL_CHARACTERS = 400
MULTI_VALUE_SEPARATOR = " | "


def _cell(values: Any) -> str:
    if values is None:
        return ""
    if isinstance(values, list | tuple):
        text = MULTI_VALUE_SEPARATOR.join(_scalar(v) for v in values if v is not None)
    else:
        text = _scalar(values)
    # One row per line whatever the data says; and no cell may drown the others.
    text = text.replace("\r", " ").replace("\n", "\\n")
    if len(text) > MAX_CELL_CHARACTERS:
        text = text[: MAX_CELL_CHARACTERS - 1] + "…"
    return text


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *, hoist_constants: bool = False
) -> str:
    """`rows` as CSV with a header. Columns: `columns` in that order (those with no value in
    any row left out), or every key seen, in first-seen order. With `hoist_constants`, a column
    with the same value in every row (of several) is written once above the table instead."""
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update((key, None) for key in row)
        columns = list(seen)
    cells = [{c: _cell(row.get(c)) for c in columns} for row in rows]
    present = [c for c in columns if any(row[c] for row in cells)]
    lines: list[str] = []
    if hoist_constants and len(cells) > 1:
        constant = [c for c in present if len({row[c] for row in cells}) == 1]
        lines.extend(f"{c}: {cells[0][c]} (every row)" for c in constant)
        present = [c for c in present if c not in constant]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(present)
    for row in cells:
        writer.writerow([row[c] for c in present])
    lines.append(buffer.getvalue().rstrip("\n"))
    return "\n".join(lines)

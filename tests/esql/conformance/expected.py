"""The expected-result table of a csv-spec test, read as `CsvTestUtils.loadCsvSpecValues` reads it.

The table is CSV with `|` as the delimiter and `"` as the quote (SuperCSV's tokenizer: a quote
anywhere toggles quoting, `""` inside quotes is a literal quote, quoted cells may span lines, an
empty cell is null). The first record is the header (`name:type`, `::` allowed inside names);
each cell is trimmed, `null` (any case) is null, `[a, b]` is a multi-value whose items are split
on commas not preceded by a backslash, and an empty cell stays the empty string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.esql.conformance.values import SpecValueError, as_type, convert_expected

DELIMITER = "|"
QUOTE = '"'
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_TYPECAST = "__TYPECAST__"


class SpecFormatError(ValueError):
    """A result table Elasticsearch's harness would reject too (a broken spec, not a Vigil failure)."""


@dataclass(frozen=True)
class ExpectedColumn:
    name: str
    type_name: str  # as written in the header, e.g. "keyword", "i", "date"
    type: str  # canonical CsvTestUtils.Type name, e.g. "KEYWORD", "INTEGER", "DATETIME"


@dataclass(frozen=True)
class ExpectedResults:
    columns: list[ExpectedColumn]
    rows: list[list[Any]]  # converted cells: scalars, lists for multi-values, None for null


def tokenize(text: str) -> list[list[str | None]]:
    """SuperCSV's tokenizer for `|`-separated records; empty lines are skipped."""
    records: list[list[str | None]] = []
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line == "":
            continue
        cells: list[str | None] = []
        current: list[str] = []
        quoted = False
        position = 0
        while True:
            if position >= len(line):
                if quoted and index < len(lines):
                    # A quoted cell continues on the next line.
                    current.append("\n")
                    line = lines[index]
                    index += 1
                    position = 0
                    continue
                if quoted:
                    raise SpecFormatError("unexpected end of file while reading quoted column")
                cells.append("".join(current) or None)
                break
            char = line[position]
            position += 1
            if quoted:
                if char == QUOTE:
                    if position < len(line) and line[position] == QUOTE:
                        current.append(QUOTE)
                        position += 1
                    else:
                        quoted = False
                else:
                    current.append(char)
            elif char == QUOTE:
                quoted = True
            elif char == DELIMITER:
                cells.append("".join(current) or None)
                current = []
            else:
                current.append(char)
        records.append(cells)
    return records


def _header(cell: str | None) -> ExpectedColumn:
    if cell is None:
        raise SpecFormatError("empty column in the result header")
    # Java's String.split drops trailing empty parts, so "name:" has one part, like "name".
    parts = cell.replace("::", _TYPECAST).split(":")
    while parts and parts[-1] == "":
        parts.pop()
    if len(parts) != 2:
        raise SpecFormatError(f"Invalid CSV header {cell}")
    name = parts[0].replace(_TYPECAST, "::").strip()
    type_name = parts[1].replace(_TYPECAST, "::").strip()
    if not type_name:
        raise SpecFormatError(f"A type is always expected in the csv file; found {cell}")
    canonical = as_type(type_name)
    if canonical is None:
        raise SpecFormatError(f"Unknown type name: [{type_name}]")
    return ExpectedColumn(name, type_name, canonical)


def _cell(column: ExpectedColumn, raw: str | None) -> Any:
    if raw is None:
        return ""  # SuperCSV reads an empty cell as null; the harness turns it back into ""
    value = raw.strip()
    if value.lower() == "null":
        return None
    try:
        if value.startswith("["):
            if not value.endswith("]"):
                raise SpecFormatError(f"Incomplete multi-value (opening and closing square brackets) found {value}")
            items = _UNESCAPED_COMMA.split(value[1:-1])
            if len(items) == 1:
                return convert_expected(column.type, items[0].replace("\\,", ","))
            return [convert_expected(column.type, item.strip().replace("\\,", ",")) for item in items]
        return convert_expected(column.type, value)
    except SpecValueError as err:
        raise SpecFormatError(f"column [{column.name}]: {err}") from err


def parse_expected(text: str) -> ExpectedResults:
    records = tokenize(text)
    if not records:
        raise SpecFormatError("a test without a result header")
    columns = [_header(cell) for cell in records[0]]
    rows: list[list[Any]] = []
    for record in records[1:]:
        if len(record) > len(columns):
            raise SpecFormatError(f"row {len(rows)} has {len(record)} cells for {len(columns)} columns")
        rows.append([_cell(columns[i], raw) for i, raw in enumerate(record)])
    return ExpectedResults(columns, rows)

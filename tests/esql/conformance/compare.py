"""A `/_query` answer checked against a csv-spec test the way `EsqlSpecTestCase` checks it.

Columns: same count, same names in order, and the same `CsvTestUtils.Type` (an `integer` column
may stand for an expected `long`; a type the harness does not know counts as `null`). Values:
every cell of the expected and the actual row is rendered with Java's `toString` (after the
harness's own conversions) and the strings must be equal; with `ignoreOrder:true` the rows are
compared as a multiset. Warnings: `warning:` lines must equal the response's warnings (sorted),
`warningRegex:` lines must each allow every response warning.
"""

from __future__ import annotations

import re
from typing import Any

from tests.esql.conformance.expected import ExpectedResults
from tests.esql.conformance.spec import SpecTest
from tests.esql.conformance.values import as_type, java_str

MAX_REPORTED_CELLS = 10
_WARNING_HEADER = re.compile(r'^\d{3} \S+ "((?:[^"\\]|\\.)*)"')
_STRING_TYPES = ("KEYWORD", "TEXT", "SEMANTIC_TEXT")


def render(type_name: str, value: Any) -> str:
    """`EsqlSpecTestCase.valueMapper`: a cell as the string the harness compares."""
    if value is None:
        return "null"
    if type_name in _STRING_TYPES and isinstance(value, str):
        value = value.replace("\\n", "\n")
    return java_str(value)


def warning_text(header: str) -> str:
    """The text of one `Warning` header as Elasticsearch's REST client returns it (still escaped)."""
    match = _WARNING_HEADER.match(header)
    return match.group(1) if match else header


def check_columns(expected: ExpectedResults, actual: list[dict[str, Any]]) -> list[str]:
    names = [str(column.get("name")) for column in actual]
    wanted = [column.name for column in expected.columns]
    if len(names) != len(wanted):
        return [f"Different number of columns returned; expected {wanted} but actual was {names}"]
    problems = []
    for index, (column, raw) in enumerate(zip(expected.columns, actual, strict=True)):
        if column.name != raw.get("name"):
            problems.append(f"Different column name [{index}]: expected [{column.name}] but was [{raw.get('name')}]")
            continue
        actual_type = as_type(str(raw.get("type"))) or "NULL"
        if actual_type == "INTEGER" and column.type == "LONG":
            actual_type = "LONG"
        if actual_type != column.type:
            problems.append(
                f"Different column type for column [{column.name}] ({column.type} != {actual_type}; "
                f"/_query said [{raw.get('type')}])"
            )
    return problems


def check_values(expected: ExpectedResults, actual_rows: list[list[Any]], ignore_order: bool) -> list[str]:
    types = [column.type for column in expected.columns]
    want = [[render(types[i], cell) for i, cell in enumerate(row)] for row in expected.rows]
    got = [[render(types[i] if i < len(types) else "", cell) for i, cell in enumerate(row)] for row in actual_rows]
    if ignore_order:
        want.sort()
        got.sort()
    problems: list[str] = []
    for index, row in enumerate(want):
        if index >= len(got):
            problems.append(f"Expected more data but no more entries found after [{index}]")
            break
        for column, cell in enumerate(row):
            actual_cell = got[index][column] if column < len(got[index]) else "<missing>"
            if cell != actual_cell and len(problems) < MAX_REPORTED_CELLS:
                problems.append(f"row {index} column {column}: expected [{cell}] but was [{actual_cell}]")
        if len(got[index]) > len(row):
            problems.append(f"Plan has extra columns, returned [{len(got[index])}], expected [{len(row)}]")
            break
    if len(got) > len(want):
        problems.append(f"Elasticsearch still has data after [{len(want)}] entries: {got[len(want)]}")
    return problems


def check_warnings(test: SpecTest, warnings: list[str]) -> list[str]:
    if test.warning_regexes:
        patterns = [re.compile(".*" + regex + ".*") for regex in test.warning_regexes]
        return [f"Unexpected warning: {w}" for w in warnings if not any(p.fullmatch(w) for p in patterns)]
    unmatched = list(warnings)
    for expected in test.warnings:
        match = next((w for w in unmatched if _warning_matches(expected, w)), None)
        if match is None:
            return [f"warnings: expected {sorted(test.warnings)} but were {sorted(warnings)}"]
        unmatched.remove(match)
    if unmatched:
        return [f"warnings: expected {sorted(test.warnings)} but were {sorted(warnings)}"]
    return []


_EMULATED = "#[emulated:"


def _warning_forms(expected: str) -> list[str]:
    """Older spec files write `pushed-down text#[Emulated:evaluated text]`: the warning Elasticsearch
    gives when the filter runs in Lucene, and the one it gives when the filter is evaluated (what
    its CsvSpecReader's `expectedWarnings(forEmulated)` picks between). Either form is accepted."""
    index = expected.lower().find(_EMULATED)
    if index < 0 or not expected.endswith("]"):
        return [expected]
    forms = [expected[:index], expected[index + len(_EMULATED) : -1]]
    return [form for form in forms if form]


def _warning_matches(expected: str, actual: str) -> bool:
    return any(_warning_form_matches(form, actual) for form in _warning_forms(expected))


def _warning_form_matches(expected: str, actual: str) -> bool:
    """Equal, or (as newer spec files write `warning:Line \\d+:\\d+: ...`) matching as a regex."""
    if expected == actual:
        return True
    try:
        return re.fullmatch(expected, actual) is not None
    except re.error:
        return False

"""How DISSECT and GROK compile: the cheaper SQL gives the values the full extraction gives."""

from __future__ import annotations

import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.esql.conftest import rows
from vigil.esql.executor import explain_sql
from vigil.esql.patterns import dissect

pytestmark = pytest.mark.backend_independent

# Keys ending at one-character and longer delimiters, appends, skips, a trailing delimiter.
DISSECT_PATTERNS = [
    "%{a} %{b} HTTP/%{c} %{d} user=%{e}",
    "%{a},%{?skip}:%{+a} end",
    "[%{ts}] %{level} - %{msg}",
    "%{a}]%{b}",
    "%{a} %{b}.",
    "%{a}",
    "%{a} %{?b}",
]
DISSECT_TEXT = st.text(alphabet=" ,:.[]-/=abHTPuser\n", max_size=30)
_DUCKDB = duckdb.connect()


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DISSECT_PATTERNS), DISSECT_TEXT)
def test_dissect_prefix_regexes_give_the_full_patterns_values(pattern: str, text: str) -> None:
    """What the compiler relies on: the group-free test matches exactly when the full regex does,
    and then each key's prefix regex finds the value the full regex's group holds (RE2 through
    DuckDB, as the engine runs them)."""
    parsed = dissect.parse(pattern, " ")
    assert set(parsed.prefixes) == set(parsed.captures)
    names = "[" + ", ".join(_sql_string(c) for c in parsed.captures) + "]"
    regex = _sql_string(parsed.regex)
    prefixes = ", ".join(f"regexp_extract($1, {_sql_string(parsed.prefixes[c])}, 1)" for c in parsed.captures)
    test = _sql_string(parsed.match_regex)
    row = _DUCKDB.execute(
        f"SELECT regexp_matches($1, {regex}), regexp_matches($1, {test}), regexp_extract($1, {regex}, {names}), "
        f"[{prefixes}]",
        [text],
    ).fetchone()
    assert row is not None
    matched, tested, groups, values = row
    assert tested == matched, (pattern, text)
    if matched:
        assert values == [groups[c] for c in parsed.captures], (pattern, text)


def test_dissect_with_padding_or_a_newline_delimiter_has_no_prefixes() -> None:
    for pattern in ("%{a->} %{b}", "%{a}\n%{b}"):
        parsed = dissect.parse(pattern)
        assert (parsed.prefixes, parsed.match_regex) == ({}, "")


def test_dissect_keys_read_alone_or_together_agree(esql) -> None:
    query = 'ROW m = ["a b-c d", "x y-z w", "no match"] | MV_EXPAND m | DISSECT m "%{p} %{q}-%{r} %{s}"'
    together = rows(esql(query + " | KEEP p, q, r, s"))
    assert together == [["a", "b", "c", "d"], ["x", "y", "z", "w"], [None, None, None, None]]
    for position, key in enumerate("pqrs"):
        assert rows(esql(f"{query} | KEEP {key}")) == [[row[position]] for row in together]


def test_grok_field_nested_in_another_fields_pattern(esql) -> None:
    # SYSLOGPROG's own fields open after the `prog` group that holds them.
    result = esql('ROW m = "web1 sshd[42]" | GROK m "%{SYSLOGHOST:h} %{SYSLOGPROG:prog}" | KEEP h, prog, process.*')
    assert rows(result) == [["web1", "sshd[42]", "sshd", 42]]


def test_grok_extracts_only_the_fields_read_later(store, esql) -> None:
    query = 'ROW m = ["GET /a 200", "bad"] | MV_EXPAND m | GROK m "%{WORD:verb} %{NOTSPACE:path} %{INT:status:int}"'
    assert rows(esql(query + " | KEEP status")) == [[200], [None]]
    assert rows(esql(query + " | KEEP verb, status")) == [["GET", 200], [None, None]]
    sql = explain_sql(store, query + " | KEEP status")
    assert len(re.findall(r"\(\?P<", sql)) == 1
    assert "regexp_" not in explain_sql(store, query + " | KEEP m")

"""Invalid ES|QL reports Elasticsearch-style ``line L:C:`` parsing errors at the right place."""

from __future__ import annotations

import pytest

from vigil.esql import EsqlParsingError, parse

COMMANDS = "{'dissect', 'drop', 'enrich', 'eval', 'grok', 'keep', 'limit', 'lookup', 'mv_expand', "
COMMANDS += "'rename', 'sort', 'stats', 'where'}"

INVALID = [
    ("", 1, 1, "mismatched input '<EOF>' expecting {'from', 'row', 'show'}"),
    ("WHERE a > 1", 1, 1, "mismatched input 'WHERE' expecting {'from', 'row', 'show'}"),
    ("| WHERE a > 1", 1, 1, "mismatched input '|' expecting"),
    ("FROM", 1, 5, "expected an index pattern after 'FROM' but found '<EOF>'"),
    ("FROM logs, | LIMIT 1", 1, 12, "expected an index pattern after ',' but found '|'"),
    ("FROM logs METADATA", 1, 19, "expected a metadata field name after 'METADATA'"),
    ("FROM logs | WHERE", 1, 18, "expected an expression after 'WHERE' but found '<EOF>'"),
    ("FROM logs | WHERE | LIMIT 1", 1, 19, "expected an expression after 'WHERE' but found '|'"),
    ("FROM logs | WHERE a ==", 1, 23, "expected an expression after '==' but found '<EOF>'"),
    ('FROM logs | WHERE a == "abc', 1, 24, "unterminated string literal"),
    ('FROM logs | EVAL x = """abc', 1, 22, "unterminated string literal"),
    ('FROM logs | WHERE a == "a\\qb"', 1, 26, "invalid escape sequence '\\q'"),
    ("FROM logs | WHERE (a > 1", 1, 25, "expected ')' to close '(' at line 1:19 but found '<EOF>'"),
    ("FROM logs | WHERE a > 1)", 1, 24, "extraneous input ')' expecting '|' or end of query"),
    ("FROM logs | WHERE a = 1", 1, 21, "extraneous input '=' expecting '|' or end of query (use '=='"),
    ("FROM logs | LIMIT -1", 1, 19, "mismatched input '-' expecting a non-negative integer for LIMIT"),
    ("FROM logs | LIMIT abc", 1, 19, "mismatched input 'abc' expecting a non-negative integer"),
    ("FROM logs | LIMIT 1.5", 1, 19, "mismatched input '1.5'"),
    ("FROM logs | LIMIT", 1, 18, "mismatched input '<EOF>'"),
    ("FROM x | FOO", 1, 10, f"mismatched input 'FOO' expecting {COMMANDS}"),
    ("FROM logs || LIMIT 1", 1, 12, "mismatched input '|' expecting {'dissect'"),
    ("FROM logs | STATS COUNT(*) BY", 1, 30, "expected an expression after 'BY' but found '<EOF>'"),
    ("FROM logs | STATS", 1, 18, "expected an aggregate or 'BY' after 'STATS'"),
    ("FROM logs | STATS c = COUNT(*) WHERE", 1, 37, "expected an expression after 'WHERE'"),
    ("FROM logs | SORT", 1, 17, "expected an expression after 'SORT' but found '<EOF>'"),
    ("FROM logs | SORT a NULLS", 1, 25, "expected 'FIRST' or 'LAST' after 'NULLS'"),
    ("FROM logs | KEEP", 1, 17, "expected a field name or pattern after 'KEEP'"),
    ("FROM logs | RENAME a b", 1, 22, "expected 'AS' after 'a' but found 'b'"),
    ("FROM logs | WHERE a < b < c", 1, 25, "comparisons cannot be chained"),
    ("FROM logs | EVAL x = COUNT(a b)", 1, 30, "expected ',' or ')' in the arguments of COUNT()"),
    ("FROM logs | WHERE a IS NOT 1", 1, 28, "expected 'NULL' after 'NOT' but found '1'"),
    ("FROM logs | WHERE a LIKE", 1, 25, "expected an expression after 'LIKE' but found '<EOF>'"),
    ("FROM logs | WHERE a IN 1", 1, 24, "expected '(' after 'IN' but found '1'"),
    ("FROM logs | WHERE x IN (1, 2", 1, 29, "expected ',' or ')' after '2' but found '<EOF>'"),
    ("FROM logs | DISSECT message", 1, 28, "expected a DISSECT pattern string after 'message'"),
    ('FROM logs | DISSECT m "%{a}" FOO=","', 1, 30, "Invalid option for dissect: [FOO]"),
    ('FROM logs | DISSECT m "%{a}" APPEND_SEPARATOR=1', 1, 47, "expected a string, but was [1]"),
    ("FROM logs | LOOKUP idx ON a", 1, 20, "expected 'JOIN' after 'LOOKUP' but found 'idx'"),
    ("FROM logs | LOOKUP JOIN idx", 1, 28, "expected 'ON' after 'idx' but found '<EOF>'"),
    ("FROM logs | EVAL x = #", 1, 22, "token recognition error at: '#'"),
    ("FROM logs | WHERE @ > 1", 1, 19, "token recognition error at: '@'"),
    ("FROM logs | EVAL `abc", 1, 18, "unterminated quoted identifier"),
    ("FROM logs | /* unclosed", 1, 13, "unterminated block comment"),
    ("FROM logs | EVAL x = y::", 1, 25, "expected a data type after '::'"),
    ("FROM logs | EVAL = 1", 1, 18, "expected an expression after 'EVAL' but found '='"),
    ('ROW a = [1, "x"]', 1, 9, "multi-value literals must not mix types"),
    ("FROM logs | EVAL x = [1, a]", 1, 26, "constant in a multi-value literal but found 'a'"),
    ("ROW a = [[1]]", 1, 10, "multi-value literals cannot be nested"),
    ("FROM x | WHERE " + "(" * 60 + "a" + ")" * 60, 1, 56, "expression nested too deeply"),
    ("SHOW", 1, 5, "expected 'INFO' after 'SHOW'"),
    ("FROM logs\n| WHERE a >\n| LIMIT 5", 3, 1, "expected an expression after '>' but found '|'"),
    ("FROM logs\n| EVAL x = 1\n| EVAL y = (1 + 2", 3, 18, "expected ')' to close '(' at line 3:12"),
    ("FROM logs\n| WHERE a > 1\n| BOGUS", 3, 3, "mismatched input 'BOGUS'"),
    ('FROM logs\n| EVAL s = "multi\nline"', 2, 12, "unterminated string literal"),
]


@pytest.mark.parametrize(("query", "line", "column", "fragment"), INVALID)
def test_invalid_query_reports_position_and_reason(query: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(EsqlParsingError) as caught:
        parse(query)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert str(error).startswith(f"line {line}:{column}: ")
    assert fragment in error.message


def test_error_carries_elasticsearch_type() -> None:
    with pytest.raises(EsqlParsingError) as caught:
        parse("FROM x | FOO")
    assert caught.value.es_type == "parsing_exception"
    assert str(caught.value) == f"line 1:10: mismatched input 'FOO' expecting {COMMANDS}"
    assert isinstance(caught.value, ValueError)

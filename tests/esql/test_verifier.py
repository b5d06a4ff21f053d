"""The verifier's errors: Elasticsearch's verification_exception texts, positions and counts."""

from __future__ import annotations

import pytest

from vigil.dataplane.store import DataStore
from vigil.esql.errors import EsqlParsingError, EsqlVerificationError
from vigil.esql.executor import run_esql

pytestmark = pytest.mark.backend_independent


def error(store: DataStore, query: str) -> str:
    with pytest.raises(EsqlVerificationError) as caught:
        run_esql(store, query)
    text = str(caught.value)
    assert text.startswith("Found ")
    return text


def only(store: DataStore, query: str) -> str:
    text = error(store, query)
    header, _, problem = text.partition("\n")
    assert header == "Found 1 problem", text
    return problem


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("FROM employees | KEEP foo", "line 1:23: Unknown column [foo]"),
        ("FROM employees | WHERE salry > 1", "line 1:24: Unknown column [salry], did you mean [salary]?"),
        ("FROM nope", "line 1:6: Unknown index [nope]"),
        ("FROM nope*", "line 1:6: Unknown index [nope*]"),
        ("FROM employees | EVAL x = foo(salary)", "line 1:27: Unknown function [foo]"),
        (
            'ROW a = 1, b = 2, c = "xxx" | EVAL y = a + c',
            "line 1:40: second argument of [a + c] must be [date_nanos, datetime or numeric], found value [c] "
            "type [keyword]",
        ),
        (
            'ROW a = 1, b = "c" | EVAL x = ROUND(b, 3)',
            "line 1:31: first argument of [ROUND(b, 3)] must be [numeric], found value [b] type [keyword]",
        ),
        (
            "ROW a = 1 | EVAL x = LENGTH(a)",
            "line 1:22: argument of [LENGTH(a)] must be [string], found value [a] type [integer]",
        ),
        ("FROM employees | WHERE salary", "line 1:24: Condition expression needs to be boolean, found [INTEGER]"),
        (
            "ROW a = 1, b = 2 | EVAL x = MAX(b)",
            "line 1:29: aggregate function [MAX(b)] not allowed outside STATS command",
        ),
        (
            "FROM employees | STATS x = AVG(salary), emp_no BY languages",
            "line 1:41: column [emp_no] must appear in the STATS BY clause or be used in an aggregate function",
        ),
        (
            "FROM employees | STATS MAX(MAX(salary)) BY first_name",
            "line 1:28: nested aggregations [MAX(salary)] not allowed inside other aggregations [MAX(MAX(salary))]",
        ),
        ("FROM employees | STATS 5 BY emp_no", "line 1:24: expected an aggregate function but found [5]"),
        (
            "FROM employees | STATS emp_no BY emp_no",
            "line 1:24: grouping key [emp_no] already specified in the STATS BY clause",
        ),
        (
            "FROM employees | STATS x = PERCENTILE(salary, salary)",
            "line 1:28: second argument of [PERCENTILE(salary, salary)] must be a constant, received [salary]",
        ),
        (
            'ROW a = 1 | EVAL x = ROUND(123.45, "c")',
            "line 1:36: Cannot convert string [c] to [LONG], error [Cannot parse number [c]]",
        ),
        (
            'FROM employees | WHERE emp_no == "foo"',
            "line 1:34: Cannot convert string [foo] to [INTEGER], error [Cannot parse number [foo]]",
        ),
        (
            "FROM employees | WHERE first_name == 1",
            "line 1:24: first argument of [first_name == 1] is [string] so second argument must also be [string] "
            "but was [integer]",
        ),
        ("FROM employees | DROP *", "line 1:23: Removing all fields is not allowed [*]"),
        ("FROM employees | KEEP zzz*", "line 1:23: No matches found for pattern [zzz*]"),
        (
            "FROM employees | STATS MAX(salary) BY BUCKET(hire_date, 5.5)",
            "line 1:39: second argument of [BUCKET(hire_date, 5.5)] must be [integral, date_period or time_duration], "
            "found value [5.5] type [double]",
        ),
        (
            "FROM employees | EVAL b = BUCKET(salary, 10.0)",
            "line 1:27: cannot use grouping function [BUCKET(salary, 10.0)] outside of STATS command",
        ),
        ("FROM employees | LOOKUP JOIN nope ON languages", "line 1:30: Unknown index [nope]"),
        ('FROM employees | GROK message "%{NOPE:x}"', "Unable to find pattern [NOPE]"),
    ],
)
def test_single_problem(store: DataStore, query: str, expected: str) -> None:
    problem = only(store, query)
    if expected.startswith("line "):
        assert problem == expected
    else:
        assert expected in problem


def test_every_problem_is_reported(store: DataStore) -> None:
    text = error(store, "FROM employees | EVAL x = foo + 1, y = bar | KEEP baz")
    assert text.splitlines() == [
        "Found 3 problems",
        "line 1:27: Unknown column [foo]",
        "line 1:40: Unknown column [bar]",
        "line 1:51: Unknown column [baz]",
    ]


def test_columns_removed_by_keep_are_gone(store: DataStore) -> None:
    assert only(store, "FROM employees | KEEP emp_no | WHERE salary > 1") == "line 1:38: Unknown column [salary]"


def test_parsing_errors_pass_through(store: DataStore) -> None:
    with pytest.raises(EsqlParsingError) as caught:
        run_esql(store, "FROM employees | WHERE")
    assert str(caught.value).startswith("line 1:23:")


def test_unknown_named_parameter(store: DataStore) -> None:
    assert only(store, "ROW a = ?missing") == "line 1:9: Unknown query parameter [missing]"

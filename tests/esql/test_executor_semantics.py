"""Elasticsearch's null, multi-value and failure semantics, and the warnings they produce."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.esql.conftest import rows
from vigil.datasource import open_data_source
from vigil.esql.errors import EsqlExecutionError
from vigil.esql.executor import run_esql
from vigil.settings import Settings

pytestmark = pytest.mark.backend_independent

SINGLE_VALUE = "java.lang.IllegalArgumentException: single-value function encountered multi-value"


def summary(line: int, column: int, source: str) -> str:
    return (
        f"Line {line}:{column}: evaluation of [{source}] failed, treating result as null. "
        "Only first 20 failures recorded."
    )


def test_single_value_function_on_multi_value_is_null_with_warning(esql) -> None:
    result = esql("FROM employees | EVAL x = salary_change + 1 | SORT emp_no | KEEP emp_no, x")
    assert rows(result)[0] == [10001, pytest.approx(2.19)]  # one value: fine
    assert rows(result)[1] == [10002, None]
    assert result.warnings == [summary(1, 27, "salary_change + 1"), f"Line 1:27: {SINGLE_VALUE}"]


def test_where_on_multi_value_comparison_drops_the_row(esql) -> None:
    result = esql("FROM employees | WHERE salary_change > 10 | KEEP emp_no")
    assert rows(result) == []  # every row with a value above 10 is multi-valued
    assert result.warnings == [summary(1, 24, "salary_change > 10"), f"Line 1:24: {SINGLE_VALUE}"]


def test_is_null_and_mv_functions_accept_multi_values_without_warning(esql) -> None:
    result = esql(
        "FROM employees | WHERE job_positions IS NOT NULL | EVAL n = MV_COUNT(job_positions) | SORT emp_no "
        "| KEEP emp_no, n"
    )
    assert rows(result) == [[10001, 2], [10002, 1], [10004, 4]]
    assert result.warnings == []


def test_integer_overflow_is_null_with_warning(esql) -> None:
    result = esql("ROW a = 2147483647 | EVAL b = a + 1, c = TO_LONG(a) + 1")
    assert rows(result) == [[2147483647, None, 2147483648]]
    assert result.warnings == [summary(1, 31, "a + 1"), "Line 1:31: java.lang.ArithmeticException: integer overflow"]


def test_long_overflow_and_division_by_zero(esql) -> None:
    result = esql("ROW a = 9223372036854775807 | EVAL b = a * 2, c = 10 / 0, d = 10 % 0")
    assert rows(result) == [[9223372036854775807, None, None, None]]
    assert summary(1, 40, "a * 2") in result.warnings
    assert "Line 1:40: java.lang.ArithmeticException: long overflow" in result.warnings
    assert summary(1, 51, "10 / 0") in result.warnings
    assert "Line 1:51: java.lang.ArithmeticException: / by zero" in result.warnings


def test_conversion_failure_drops_value_with_warning(esql) -> None:
    result = esql('ROW s = ["1", "two", "3"] | EVAL i = TO_INTEGER(s)')
    assert rows(result)[0][1] == [1, 3]
    assert result.warnings == [
        summary(1, 38, "TO_INTEGER(s)"),
        'Line 1:38: java.lang.NumberFormatException: For input string: "two"',
    ]


def test_null_propagation(esql) -> None:
    result = esql('ROW a = null, b = 1 | EVAL c = a + b, d = CONCAT("x", a), e = a == b, f = a IS NULL')
    assert rows(result) == [[None, 1, None, None, None, True]]


def test_three_valued_logic(esql) -> None:
    result = esql("ROW a = null | EVAL t = a OR true, f = a AND false, n = a AND true, m = NOT (a == 1)")
    assert rows(result) == [[None, True, False, None, None]]


def test_string_constant_is_cast_to_the_compared_type(esql) -> None:
    result = esql('FROM employees | WHERE hire_date < "1986-01-01" | KEEP emp_no')
    assert rows(result) == [[10002]]
    ips = esql('FROM employees | WHERE client_ip == "10.0.0.1" | KEEP emp_no')
    assert rows(ips) == [[10003]]


def test_params_positional_and_named(store) -> None:
    positional = run_esql(store, "FROM employees | WHERE salary > ? AND languages == ? | KEEP emp_no", [60000, 4])
    assert positional.values == [[10003]]
    numbered = run_esql(store, "FROM employees | WHERE salary > ?2 | KEEP emp_no | SORT emp_no", [0, 62000])
    assert numbered.values == [[10005]]
    named = run_esql(store, "ROW a = ?name, b = ?n", [{"name": "x"}, {"n": 1.5}])
    assert named.values == [["x", 1.5]]
    as_dict = run_esql(store, "ROW a = ?name", {"name": True})
    assert as_dict.values == [[True]]


def test_now_is_one_instant_per_query(esql) -> None:
    result = esql("ROW a = NOW() | EVAL b = NOW(), same = a == b")
    assert rows(result)[0][2] is True


# 300,000 x 300,000 rows: hours of work, which must not hold the store (one statement at a time).
RUNAWAY = (
    'ROW a = SPLIT(REPEAT("ab,", 300000), ",") | MV_EXPAND a'
    ' | EVAL b = SPLIT(REPEAT("c,", 300000), ",") | MV_EXPAND b | STATS c = COUNT(*)'
)


def test_a_query_past_the_time_limit_is_cancelled_and_the_store_stays_usable(store) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with pytest.raises(EsqlExecutionError) as caught:
        run_esql(store, RUNAWAY, time_limit_seconds=0.5)
    assert caught.value.es_type == "task_cancelled_exception"
    assert "limit of [0.5s]" in caught.value.message
    assert time.monotonic() - started < 30
    assert run_esql(store, "ROW a = 1").values == [[1]]


def test_bucket_sizes_are_counted_not_walked_for_billions_of_buckets(store) -> None:  # type: ignore[no-untyped-def]
    # Elasticsearch's bucket.csv-spec veryLargeNumberOfBuckets: once a compile that never ended.
    query = (
        "FROM employees | STATS c = COUNT(*) BY b = BUCKET(hire_date, 8000000000,"
        ' "1985-01-01T00:00:00.000", "2000-01-01T00:00:00.000") | SORT b | LIMIT 1'
    )
    assert rows(run_esql(store, query, time_limit_seconds=30)) == [[1, "1985-11-21T00:00:00.000Z"]]


def test_the_embedded_data_source_applies_the_configured_time_limit(tmp_path: Path) -> None:
    source = open_data_source(Settings(data_dir=tmp_path, esql_query_time_limit_seconds=0.5))
    try:
        with pytest.raises(EsqlExecutionError) as caught:
            source.esql(RUNAWAY)
        assert caught.value.es_type == "task_cancelled_exception"
        assert "limit of [0.5s]" in caught.value.message
        assert rows(source.esql("ROW a = 1")) == [[1]]
    finally:
        source.close()

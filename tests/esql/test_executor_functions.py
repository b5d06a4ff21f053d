"""Scalar and aggregate functions from each registry family, on a real DuckDB store."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.esql.conftest import rows, types

pytestmark = pytest.mark.backend_independent


def one(esql, expression: str):  # type: ignore[no-untyped-def]
    result = esql(f"ROW x = 1 | EVAL v = {expression} | KEEP v")
    return rows(result)[0][0], types(result)[0]


@pytest.mark.parametrize(
    ("expression", "expected", "type_"),
    [
        ('CONCAT("a", "b", "c")', "abc", "keyword"),
        ('CONCAT("a", null)', None, "keyword"),
        ('LENGTH("héllo")', 5, "integer"),
        ('SUBSTRING("elasticsearch", 1, 7)', "elastic", "keyword"),
        ('SUBSTRING("elasticsearch", -6)', "search", "keyword"),
        ('TO_UPPER("abc")', "ABC", "keyword"),
        ('TO_LOWER("ABC")', "abc", "keyword"),
        ('TRIM("  a b \t")', "a b", "keyword"),
        ('LTRIM("  a ")', "a ", "keyword"),
        ('RTRIM("  a ")', "  a", "keyword"),
        ('SPLIT("a,b,c", ",")', ["a", "b", "c"], "keyword"),
        ('STARTS_WITH("elastic", "ela")', True, "boolean"),
        ('ENDS_WITH("elastic", "tic")', True, "boolean"),
        ('REPLACE("hello world", "o+", "0")', "hell0 w0rld", "keyword"),
        ('REPLACE("John Smith", "(\\\\w+) (\\\\w+)", "$2, $1")', "Smith, John", "keyword"),
        ('LEFT("elastic", 3)', "ela", "keyword"),
        ('RIGHT("elastic", 3)', "tic", "keyword"),
        ('LOCATE("elastic", "st")', 4, "integer"),
        ('LOCATE("elastic", "x")', 0, "integer"),
        ('REPEAT("ab", 3)', "ababab", "keyword"),
        ('REVERSE("abc")', "cba", "keyword"),
        ("ABS(-5)", 5, "integer"),
        ("ABS(-5.5)", 5.5, "double"),
        ("CEIL(1.2)", 2.0, "double"),
        ("FLOOR(-1.2)", -2.0, "double"),
        ("ROUND(2.05, 1)", 2.1, "double"),
        ("ROUND(1234, -2)", 1200, "integer"),
        ("POW(2, 10)", 1024.0, "double"),
        ("SQRT(16)", 4.0, "double"),
        ("LOG10(1000)", 3.0, "double"),
        ("LOG(2, 8)", 3.0, "double"),
        ("SIGNUM(-3)", -1.0, "double"),
        ("GREATEST(1, 5, 3)", 5, "integer"),
        ("LEAST(1, 5, 3)", 1, "integer"),
        ("ROUND(PI(), 4)", 3.1416, "double"),
        ("ROUND(E(), 3)", 2.718, "double"),
        ("7 / 2", 3, "integer"),
        ("-7 / 2", -3, "integer"),
        ("-7 % 2", -1, "integer"),
        ("7.0 / 2", 3.5, "double"),
        ('CASE(x > 0, "pos", x < 0, "neg", "zero")', "pos", "keyword"),
        ("CASE(x > 5, 1)", None, "integer"),
        ("COALESCE(null, null, 3)", 3, "integer"),
        ("TO_STRING(5)", "5", "keyword"),
        ("TO_STRING(1.5)", "1.5", "keyword"),
        ("TO_STRING(true)", "true", "keyword"),
        ('TO_LONG("42")', 42, "long"),
        ("TO_INTEGER(3.9)", 3, "integer"),
        ('TO_DOUBLE("2.5")', 2.5, "double"),
        ('TO_BOOLEAN("TRUE")', True, "boolean"),
        ("TO_BOOLEAN(0)", False, "boolean"),
        ('TO_DATETIME("2024-03-01T10:20:30.123Z")', "2024-03-01T10:20:30.123Z", "date"),
        ("TO_DATETIME(0)", "1970-01-01T00:00:00.000Z", "date"),
        ('TO_LONG(TO_DATETIME("1970-01-01T00:00:01Z"))', 1000, "long"),
        ('TO_IP("10.1.2.3")', "10.1.2.3", "ip"),
        ('TO_VERSION("1.2.3")', "1.2.3", "version"),
        ('"42"::integer + 1', 43, "integer"),
        ("5::double", 5.0, "double"),
        ('DATE_TRUNC(1 month, TO_DATETIME("2024-03-17T10:00:00Z"))', "2024-03-01T00:00:00.000Z", "date"),
        ('DATE_TRUNC(2 hours, TO_DATETIME("2024-03-17T11:30:00Z"))', "2024-03-17T10:00:00.000Z", "date"),
        ('DATE_TRUNC(1 week, TO_DATETIME("2024-03-17T11:30:00Z"))', "2024-03-11T00:00:00.000Z", "date"),
        ('DATE_EXTRACT("year", TO_DATETIME("2024-03-17T11:30:00Z"))', 2024, "long"),
        ('DATE_EXTRACT("day_of_week", TO_DATETIME("2024-03-17T11:30:00Z"))', 7, "long"),
        ('DATE_FORMAT("yyyy-MM-dd HH:mm", TO_DATETIME("2024-03-07T09:05:00Z"))', "2024-03-07 09:05", "keyword"),
        ('DATE_FORMAT(TO_DATETIME("2024-03-07T09:05:00Z"))', "2024-03-07T09:05:00.000Z", "keyword"),
        ('DATE_PARSE("yyyy-MM-dd", "2023-02-01")', "2023-02-01T00:00:00.000Z", "date"),
        ('DATE_DIFF("day", TO_DATETIME("2024-01-01T12:00:00Z"), TO_DATETIME("2024-01-03T11:00:00Z"))', 1, "integer"),
        ('DATE_DIFF("month", TO_DATETIME("2024-01-31"), TO_DATETIME("2024-03-01"))', 1, "integer"),
        ('TO_DATETIME("2024-01-01T00:00:00Z") + 1 day', "2024-01-02T00:00:00.000Z", "date"),
        ('TO_DATETIME("2024-01-01T00:00:00Z") - 90 minutes', "2023-12-31T22:30:00.000Z", "date"),
        ('CIDR_MATCH(TO_IP("10.1.2.3"), "10.0.0.0/8", "192.168.0.0/16")', True, "boolean"),
        ('CIDR_MATCH(TO_IP("11.1.2.3"), "10.0.0.0/8")', False, "boolean"),
        ('"abc" LIKE "a*"', True, "boolean"),
        ('"abc" LIKE "a?c"', True, "boolean"),
        ('"a*c" LIKE "a\\\\*c"', True, "boolean"),
        ('"abc" RLIKE "a.c"', True, "boolean"),
        ('"abc" RLIKE "b"', False, "boolean"),
        ("x IN (1, 2)", True, "boolean"),
        ("x NOT IN (2, 3)", True, "boolean"),
        ("null IS NULL", True, "boolean"),
    ],
)
def test_scalar_function(esql, expression: str, expected: object, type_: str) -> None:
    value, actual_type = one(esql, expression)
    assert actual_type == type_
    if isinstance(expected, float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MV_COUNT(v)", 4),
        ("MV_MIN(v)", 1),
        ("MV_MAX(v)", 9),
        ("MV_SUM(v)", 16),
        ("MV_AVG(v)", 4.0),
        ("MV_MEDIAN(v)", 3),
        ("MV_FIRST(v)", 3),
        ("MV_LAST(v)", 9),
        ("MV_SORT(v)", [1, 3, 3, 9]),
        ('MV_SORT(v, "desc")', [9, 3, 3, 1]),
        ("MV_DEDUPE(v)", [3, 1, 9]),
        ("MV_SLICE(v, 1, 2)", [1, 3]),
        ("MV_SLICE(v, -1)", 9),
        ("MV_APPEND(v, 0)", [3, 1, 3, 9, 0]),
        ('MV_CONCAT(TO_STRING(v), "-")', "3-1-3-9"),
        ('MV_ZIP(["a", "b"], ["x"], ":")', ["a:x", "b"]),
    ],
)
def test_multi_value_function(esql, expression: str, expected: object) -> None:
    result = esql(f"ROW v = [3, 1, 3, 9] | EVAL r = {expression} | KEEP r")
    assert rows(result) == [[expected]]


def test_aggregates(esql) -> None:
    result = esql(
        "FROM employees | STATS c = COUNT(*), cf = COUNT(job_positions), cd = COUNT_DISTINCT(languages), "
        "s = SUM(salary), mn = MIN(hire_date), mx = MAX(first_name), med = MEDIAN(salary), "
        "p = PERCENTILE(salary, 50), mad = MEDIAN_ABSOLUTE_DEVIATION(languages), "
        'v = VALUES(languages), t = TOP(salary, 2, "desc"), sc = SUM(salary_change)'
    )
    assert rows(result) == [
        [
            5,
            7,  # every value of the multi-valued field counts
            4,
            275183,
            "1985-11-21T00:00:00.000Z",
            "Parto",
            57305.0,
            57305.0,
            1.0,
            [1, 2, 4, 5],
            [63528, 61805],
            pytest.approx(1.19 - 7.23 + 11.17 + 12.82 + 14.68 + 3.65 - 0.35 + 1.13 + 13.48),
        ]
    ]


def test_count_of_expression_and_distinct_multi_value(esql) -> None:
    result = esql("FROM employees | STATS c = COUNT(salary > 60000), d = COUNT_DISTINCT(job_positions)")
    assert rows(result) == [[5, 7]]


def test_constants_fold_through_eval_for_functions_that_need_them(esql) -> None:
    result = esql(
        'FROM employees | EVAL start = "1985-01-01T00:00:00Z", stop = CONCAT("1990", "-01-01") '
        "| STATS c = COUNT(*) BY y = BUCKET(hire_date, 5, start, stop) | SORT y"
    )
    assert rows(result) == [
        [1, "1985-01-01T00:00:00.000Z"],
        [3, "1986-01-01T00:00:00.000Z"],
        [1, "1989-01-01T00:00:00.000Z"],
    ]
    duration = esql('FROM employees | STATS c = COUNT(*) BY y = BUCKET(hire_date, "1 year") | SORT y | LIMIT 1')
    assert rows(duration) == [[1, "1985-01-01T00:00:00.000Z"]]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('REPEAT("ab", 2147483647)', "Creating repeated strings with more than [1048576] bytes is not supported"),
        ("SPACE(1048577)", "Creating strings with more than [1048576] bytes is not supported"),
    ],
)
def test_strings_over_a_mebibyte_are_null_with_a_warning_not_allocated(esql, expression: str, message: str) -> None:
    # Once a segfault of the whole server (4 GiB asked of DuckDB); Elasticsearch caps at 1 MiB.
    result = esql(f"ROW v = {expression}")
    assert rows(result) == [[None]]
    assert result.warnings[-1].endswith(f"java.lang.IllegalArgumentException: {message}")
    assert rows(esql('ROW v = LENGTH(REPEAT("é", 524288))')) == [[524288]]  # exactly 1 MiB of UTF-8
    assert rows(esql('ROW v = SPACE(null), w = REPEAT("a", null), x = REPEAT(null, 3)')) == [[None, None, None]]


def test_an_oversized_string_is_refused_before_it_is_built() -> None:
    # DuckDB folds constant expressions while planning, before CASE picks a branch: a bound only
    # in the CASE condition once let REPEAT("ab", 2147483647) build 4 GiB (8 GB peak, 13 s) and
    # then answer null. A fresh process, so its peak memory is this query's alone (VmHWM: getrusage's
    # maxrss would carry the forked test runner's peak across exec).
    program = (
        "from vigil.dataplane.store import DataStore\n"
        "from vigil.esql.executor import run_esql\n"
        "store = DataStore.open(None)\n"
        "for q in ('ROW v = REPEAT(\"ab\", 2147483647)', 'ROW v = SPACE(2147483647)'):\n"
        "    assert run_esql(store, q).values == [[None]], q\n"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    peak_mib = int(done.stdout.strip()) / 1024
    assert peak_mib < 1024, f"peak memory {peak_mib:.0f} MiB"

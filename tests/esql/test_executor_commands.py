"""Every processing command, run through the compiler on a real DuckDB store."""

from __future__ import annotations

import pytest

from tests.esql.conftest import names, rows, types
from vigil.dataplane.store import DataStore
from vigil.esql.executor import run_esql

pytestmark = pytest.mark.backend_independent


def test_from_lists_fields_alphabetically_with_es_types(esql) -> None:
    result = esql("FROM employees | LIMIT 1")
    assert names(result) == sorted(names(result))
    by_name = dict(zip(names(result), types(result), strict=True))
    assert by_name["hire_date"] == "date"
    assert by_name["languages"] == "long"
    assert by_name["salary"] == "integer"
    assert by_name["message"] == "text"
    assert by_name["client_ip"] == "ip"
    assert by_name["version"] == "version"


def test_metadata_index_and_id(esql) -> None:
    result = esql("FROM employees METADATA _index, _id | KEEP emp_no, _index, _id | SORT emp_no | LIMIT 1")
    assert names(result) == ["emp_no", "_index", "_id"]
    emp_no, index, doc_id = rows(result)[0]
    assert (emp_no, index) == (10001, "employees")
    assert isinstance(doc_id, str) and doc_id


def test_where_sort_keep(esql) -> None:
    result = esql("FROM employees | WHERE salary > 57000 | SORT salary DESC | KEEP first_name, salary")
    assert rows(result) == [["Kyoichi", 63528], ["Parto", 61805], ["Georgi", 57305]]


def test_sort_nulls_last_ascending_first_descending(esql) -> None:
    ascending = esql("FROM employees | SORT job_positions, emp_no | KEEP emp_no")
    assert [r[0] for r in rows(ascending)][-2:] == [10003, 10005]  # no job_positions: last
    descending = esql("FROM employees | SORT client_ip DESC, emp_no | KEEP emp_no")
    assert [r[0] for r in rows(descending)][:2] == [10004, 10005]  # no client_ip: first
    explicit = esql("FROM employees | SORT client_ip ASC NULLS FIRST, emp_no | KEEP emp_no | LIMIT 1")
    assert rows(explicit) == [[10004]]


def test_sort_ip_and_version_by_value_not_text(esql) -> None:
    ips = esql("FROM employees | WHERE client_ip IS NOT NULL | SORT client_ip | KEEP client_ip")
    assert [r[0] for r in rows(ips)] == ["10.0.0.1", "172.21.0.5", "172.21.3.15"]
    versions = esql("FROM employees | WHERE version IS NOT NULL | SORT version | KEEP version")
    assert [r[0] for r in rows(versions)] == ["1.2.3", "1.9.9", "1.10.0", "2.0"]


def test_limit_and_default_limit(esql) -> None:
    assert len(rows(esql("FROM employees | LIMIT 2"))) == 2
    assert len(rows(esql("ROW x = 1 | LIMIT 0"))) == 0
    # The SORT before a LIMIT decides which rows are kept.
    result = esql("FROM employees | SORT salary | LIMIT 2 | SORT emp_no DESC | KEEP emp_no")
    assert rows(result) == [[10004], [10002]]


def test_eval_shadows_and_appends(esql) -> None:
    result = esql("ROW a = 1, b = 2 | EVAL a = a + 10, c = a * 2")
    assert names(result) == ["b", "a", "c"]
    assert rows(result) == [[2, 11, 22]]


def test_keep_wildcards_and_drop(esql) -> None:
    result = esql("FROM employees | KEEP *name, emp_no | LIMIT 1")
    assert names(result) == ["first_name", "last_name", "emp_no"]
    dropped = esql("FROM employees | DROP *_name, salary* | LIMIT 1")
    assert not {"first_name", "last_name", "salary", "salary_change"} & set(names(dropped))


def test_rename(esql) -> None:
    result = esql("FROM employees | RENAME first_name AS name, emp_no AS id | KEEP id, name | SORT id | LIMIT 1")
    assert names(result) == ["id", "name"]
    assert rows(result) == [[10001, "Georgi"]]


def test_stats_by_groups_and_aggregates(esql) -> None:
    result = esql(
        "FROM employees | STATS n = COUNT(*), avg = AVG(salary), top = MAX(salary) BY still_hired | SORT still_hired"
    )
    assert names(result) == ["n", "avg", "top", "still_hired"]
    assert types(result) == ["long", "double", "integer", "boolean"]
    assert rows(result) == [[1, 61805.0, 61805, False], [4, 53344.5, 63528, True]]


def test_stats_without_rows_returns_one_row(esql) -> None:
    result = esql("FROM employees | WHERE salary > 1000000 | STATS c = COUNT(*), s = SUM(salary)")
    assert rows(result) == [[0, None]]


def test_stats_by_multi_valued_field_counts_each_value(esql) -> None:
    result = esql("FROM employees | STATS c = COUNT(*) BY job_positions | SORT job_positions")
    by_position = {r[1]: r[0] for r in rows(result)}
    assert by_position["Accountant"] == 1
    assert by_position["Tech Lead"] == 1
    assert by_position[None] == 2  # documents without the field form the null group


def test_stats_expression_over_aggregates_and_filter(esql) -> None:
    result = esql("FROM employees | STATS spread = MAX(salary) - MIN(salary), hired = COUNT(*) WHERE still_hired")
    assert rows(result) == [[63528 - 36174, 4]]


def test_stats_bucket_by_date(esql) -> None:
    result = esql("FROM employees | STATS c = COUNT(*) BY y = BUCKET(hire_date, 1 year) | SORT y")
    assert rows(result) == [
        [1, "1985-01-01T00:00:00.000Z"],
        [3, "1986-01-01T00:00:00.000Z"],
        [1, "1989-01-01T00:00:00.000Z"],
    ]


def test_bucket_with_target_count_picks_monthly_buckets(esql) -> None:
    result = esql(
        'FROM employees | WHERE hire_date >= "1986-01-01" AND hire_date < "1987-01-01" '
        '| STATS c = COUNT(*) BY m = BUCKET(hire_date, 20, "1986-01-01", "1987-01-01") | SORT m'
    )
    assert [r[1] for r in rows(result)] == [
        "1986-06-01T00:00:00.000Z",
        "1986-08-01T00:00:00.000Z",
        "1986-12-01T00:00:00.000Z",
    ]


def test_numeric_bucket(esql) -> None:
    result = esql("FROM employees | STATS c = COUNT(*) BY b = BUCKET(salary, 10000.0) | SORT b")
    assert rows(result) == [[1, 30000.0], [2, 50000.0], [2, 60000.0]]


def test_mv_expand(esql) -> None:
    result = esql("FROM employees | WHERE emp_no == 10001 | MV_EXPAND job_positions | KEEP job_positions")
    assert rows(result) == [["Accountant"], ["Senior Python Developer"]]
    keeps_empty = esql("FROM employees | WHERE emp_no == 10005 | MV_EXPAND job_positions | KEEP emp_no")
    assert rows(keeps_empty) == [[10005]]


def test_dissect(esql) -> None:
    result = esql(
        'ROW m = "2023-01-23T12:15:00.000Z - some text - 127.0.0.1" '
        '| DISSECT m "%{date} - %{msg} - %{ip}" | KEEP date, msg, ip'
    )
    assert rows(result) == [["2023-01-23T12:15:00.000Z", "some text", "127.0.0.1"]]


def test_dissect_append_and_no_match(esql) -> None:
    result = esql('ROW m = "john jacob smith" | DISSECT m "%{+name} %{+name} %{+name}" APPEND_SEPARATOR=" "')
    assert rows(result)[0][-1] == "john jacob smith"
    no_match = esql('ROW m = "no dashes" | DISSECT m "%{a} - %{b}" | KEEP a, b')
    assert rows(no_match) == [[None, None]]


def test_grok_with_types_and_library_patterns(esql) -> None:
    result = esql(
        'ROW m = "55.3.244.1 GET /index.html 15824 0.043" '
        '| GROK m "%{IP:ip} %{WORD:method} %{URIPATHPARAM:request} %{NUMBER:bytes:int} %{NUMBER:duration:double}" '
        "| KEEP ip, method, request, bytes, duration"
    )
    assert types(result) == ["keyword", "keyword", "keyword", "integer", "double"]
    assert rows(result) == [["55.3.244.1", "GET", "/index.html", 15824, 0.043]]


def test_grok_on_field_from_index(esql) -> None:
    result = esql(
        'FROM employees | WHERE message IS NOT NULL | GROK message "%{WORD:verb} (to|from) %{IP:peer}" '
        "| SORT emp_no | KEEP verb, peer"
    )
    assert rows(result) == [["Connected", "10.1.0.1"], ["Disconnected", "10.1.0.2"], [None, None]]


def test_lookup_join(esql) -> None:
    result = esql(
        "FROM employees | LOOKUP JOIN languages_lookup ON languages | SORT emp_no | KEEP emp_no, language_name"
    )
    assert rows(result) == [
        [10001, "French"],
        [10002, None],
        [10003, "Spanish"],
        [10004, None],
        [10005, "English"],
    ]


MULTI_VALUE_JOIN_WARNINGS = [
    "Line 1:26: evaluation of [LOOKUP JOIN languages_lookup ON languages] failed, treating result as null. "
    "Only first 20 failures recorded.",
    "Line 1:26: java.lang.IllegalArgumentException: LOOKUP JOIN encountered multi-value",
]


def test_lookup_join_multi_valued_left_key_matches_nothing_and_warns(esql) -> None:
    result = esql("ROW languages = [1, 2] | LOOKUP JOIN languages_lookup ON languages")
    assert rows(result) == [[[1, 2], None]]
    assert result.warnings == MULTI_VALUE_JOIN_WARNINGS


def test_lookup_join_multi_valued_lookup_key_matches_nothing_and_warns() -> None:
    store = DataStore.open(None)
    try:
        store.create_index("codes", {"properties": {"code": {"type": "integer"}, "name": {"type": "keyword"}}})
        store.index_documents("codes", [{"code": [1, 2], "name": "both"}, {"code": 3, "name": "three"}])
        query = "ROW code = [1, 3] | MV_EXPAND code | LOOKUP JOIN codes ON code | SORT code"
        result = run_esql(store, query)
        assert rows(result) == [[1, None], [3, "three"]]
        assert [w.split(": ", 1)[1] for w in result.warnings] == [
            "evaluation of [LOOKUP JOIN codes ON code] failed, treating result as null. "
            "Only first 20 failures recorded.",
            "java.lang.IllegalArgumentException: LOOKUP JOIN encountered multi-value",
        ]
    finally:
        store.close()


def test_lookup_join_on_an_expression_keeps_the_lookup_fields(esql) -> None:
    result = esql("ROW code = 2 | LOOKUP JOIN languages_lookup ON code == languages")
    assert names(result) == ["code", "language_name", "languages"]
    assert rows(result) == [[2, "French", 2]]


def test_sort_before_lookup_join_warns_unless_sorted_again(esql) -> None:
    query = "FROM employees | SORT emp_no | LIMIT 2 | LOOKUP JOIN languages_lookup ON languages"
    assert esql(query + " | KEEP emp_no").warnings == [
        "Line 1:18: SORT is followed by a LOOKUP JOIN which does not preserve order; add another SORT after the "
        "LOOKUP JOIN if order is required"
    ]
    assert esql(query + " | SORT emp_no | KEEP emp_no").warnings == []


def test_row_with_multi_value_literal(esql) -> None:
    result = esql('ROW a = [1, 2, 3], b = "x", c = null')
    assert types(result) == ["integer", "keyword", "null"]
    assert rows(result) == [[[1, 2, 3], "x", None]]


def test_one_element_multi_value_is_returned_as_a_value(esql) -> None:
    result = esql("FROM employees | WHERE emp_no == 10001 | KEEP salary_change")
    assert rows(result) == [[1.19]]


def test_stats_by_alias_inside_aggregates_and_grouping_expressions(esql) -> None:
    result = esql("FROM employees | STATS top = MAX(l), next = l + 1 BY l = languages | SORT l")
    assert rows(result) == [[1, 2, 1], [2, 3, 2], [4, 5, 4], [5, 6, 5]]


def test_stats_shadowed_names_warn_and_last_wins(esql) -> None:
    result = esql("FROM employees | STATS x = MAX(salary), x = MIN(salary) | KEEP x")
    assert rows(result) == [[36174]]
    assert result.warnings == ["Line 1:24: Field 'x' shadowed by field at line 1:41"]


def test_repeated_by_name_groups_by_the_last(esql) -> None:
    result = esql("FROM employees | STATS c = COUNT() BY x = emp_no, x = still_hired | SORT x")
    assert rows(result) == [[1, False], [4, True]]

"""The kit's own pieces, without a server: spec reading, result tables, value rendering,
comparison, dataset documents and mappings, and the out-of-scope rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.esql.conformance.compare import check_columns, check_values, check_warnings, render, warning_text
from tests.esql.conformance.datasets import DATASETS, FIXTURES, Column, mapping_for, read_csv, split_csv_line
from tests.esql.conformance.datasets import document_json as doc
from tests.esql.conformance.expected import SpecFormatError, parse_expected, tokenize
from tests.esql.conformance.runner import failure_group, kit_tests
from tests.esql.conformance.scope import OUT_OF_SCOPE, indices_read, skip_reason
from tests.esql.conformance.spec import SpecSyntaxError, parse_spec
from tests.esql.conformance.values import (
    SpecValueError,
    canonical_ip,
    format_date_millis,
    java_double_str,
    parse_date_millis,
)

pytestmark = pytest.mark.backend_independent

SPEC = """\
// a comment
first
required_capability: some_cap
FROM employees
| KEEP emp_no   ;
warning:Line 1:1: something
ignoreOrder:true

emp_no:integer | name:keyword
10001 | "a | b"
# another comment
10002 | null
;

second#[skip:-8.13.99,reason:old]
ROW a = 1;

a:i
1
;

disabled-Ignore
ROW a = 1;

a:i
;
"""


def test_spec_reads_tests_with_their_settings() -> None:
    first, second, disabled = parse_spec(SPEC, "demo.csv-spec")
    assert first.name == "first" and first.line == 2 and first.group == "demo" and first.id == "demo.first"
    assert first.query == "FROM employees\r\n| KEEP emp_no"
    assert first.required_capabilities == ["some_cap"]
    assert first.warnings == ["Line 1:1: something"] and first.ignore_order is True
    assert first.expected_text == 'emp_no:integer | name:keyword\r\n10001 | "a | b"\r\n10002 | null\r\n'
    assert second.instructions == "[skip:-8.13.99,reason:old]" and not second.disabled_upstream
    assert disabled.disabled_upstream


def test_spec_rejects_what_elasticsearch_rejects() -> None:
    with pytest.raises(SpecSyntaxError, match="without a body"):
        parse_spec("name\nROW a = 1;\n\na:i\n1\n", "x.csv-spec")
    with pytest.raises(SpecSyntaxError, match="Cannot mix"):
        parse_spec("n\nROW a = 1;\nwarning:w\nwarningRegex:r\na:i\n;\n", "x.csv-spec")


def test_spec_keeps_both_tests_of_a_repeated_name() -> None:
    tests = parse_spec("dup\nROW a = 1;\na:i\n1\n;\ndup\nROW a = 2;\na:i\n2\n;\n", "x.csv-spec")
    assert [t.name for t in tests] == ["dup", "dup@line6"]


def test_expected_table_cells_as_the_harness_converts_them() -> None:
    table = parse_expected(
        "a:integer | b:keyword | c:double | d:date | e:ip | f:boolean | g:keyword | x::long:l\r\n"
        '1 | "x | y" | [1, -0.5, 8] | 2023-10-23T13:55:01Z | ::ffff:1.2.3.4 | true | | 7\r\n'
        "null | [a\\, b, c] | 1.8446744073709552E19 | [1985-11-21, 1986-01-01T10:00:00.5+01:00] "
        "| fe80:0:0::1 | false | NULL | -7\r\n"
    )
    assert [c.name for c in table.columns] == ["a", "b", "c", "d", "e", "f", "g", "x::long"]
    assert [c.type for c in table.columns] == [
        "INTEGER", "KEYWORD", "DOUBLE", "DATETIME", "IP", "BOOLEAN", "KEYWORD", "LONG",
    ]  # fmt: skip
    assert table.rows[0] == [1, "x | y", [1.0, -0.5, 8.0], "2023-10-23T13:55:01.000Z", "1.2.3.4", True, "", 7]
    assert table.rows[1] == [
        None, ["a, b", "c"], 1.8446744073709552e19,
        ["1985-11-21T00:00:00.000Z", "1986-01-01T09:00:00.500Z"], "fe80::1", False, None, -7,
    ]  # fmt: skip


def test_expected_table_tokenizer_quoting() -> None:
    assert tokenize('a|"b ""c"" | d"|e"f"g\n\n"multi\nline"|z') == [
        ["a", 'b "c" | d', "efg"],
        ["multi\nline", "z"],
    ]


@pytest.mark.parametrize(
    "table",
    ["a\r\n1\r\n", "a:nosuchtype\r\n1\r\n", "a:integer\r\nfoo\r\n", "a:boolean\r\nyes\r\n", "a:i\r\n1|2\r\n"],
)
def test_broken_tables_are_kit_errors(table: str) -> None:
    with pytest.raises(SpecFormatError):
        parse_expected(table)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (313301314.9047619, "3.133013149047619E8"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1.8446744073709552e19, "1.8446744073709552E19"),
        (123.456, "123.456"),
        (float("nan"), "NaN"),
    ],
)
def test_doubles_render_as_java_does(value: float, text: str) -> None:
    assert java_double_str(value) == text


def test_dates_and_ips_normalize_like_elasticsearch() -> None:
    assert parse_date_millis("1970-01-01T00:00:01.5Z") == 1500
    assert parse_date_millis("1970-01-01T01:00:00+01:00") == 0
    assert format_date_millis(parse_date_millis("-0006-01-01")) == "-0006-01-01T00:00:00.000Z"
    assert format_date_millis(parse_date_millis("0000-12-01T10:00:00Z")) == "0000-12-01T10:00:00.000Z"
    assert format_date_millis(parse_date_millis("2024-02-29T23:59:59.999Z")) == "2024-02-29T23:59:59.999Z"
    with pytest.raises(SpecValueError):
        parse_date_millis("2023-02-29")
    assert canonical_ip("::FFFF:10.0.0.1") == "10.0.0.1"
    assert canonical_ip("fe80:0000:0:0:0:0:0:0001") == "fe80::1"


def test_values_compare_as_java_strings() -> None:
    table = parse_expected("d:double | k:keyword | n:integer | b:boolean\r\n2.0 | a\\nb | [1, 2] | true\r\n")
    assert check_values(table, [[2.0, "a\\nb", [1, 2], True]], ignore_order=False) == []
    # an integer where a double is expected prints "2", not "2.0": Elasticsearch's harness rejects it too
    assert check_values(table, [[2, "a\\nb", [1, 2], True]], ignore_order=False) == [
        "row 0 column 0: expected [2.0] but was [2]"
    ]
    # a single value returned as a one-element list is not the same answer
    assert check_values(table, [[2.0, "a\\nb", [1, 2], [True]]], ignore_order=False)[0].startswith("row 0 column 3")
    assert render("KEYWORD", None) == "null"


def test_row_order_and_count() -> None:
    table = parse_expected("a:integer\r\n1\r\n2\r\n")
    assert check_values(table, [[2], [1]], ignore_order=True) == []
    assert check_values(table, [[2], [1]], ignore_order=False) != []
    assert check_values(table, [[1]], ignore_order=False) == ["Expected more data but no more entries found after [1]"]
    assert check_values(table, [[1], [2], [3]], ignore_order=False)[0].startswith("Elasticsearch still has data")
    assert check_values(table, [[1, 9], [2, 9]], ignore_order=False)[0].startswith("Plan has extra columns")


def test_columns_names_and_types() -> None:
    table = parse_expected("a:long | b:date | c:null\r\n")
    ok = [{"name": "a", "type": "integer"}, {"name": "b", "type": "date"}, {"name": "c", "type": "unsupported"}]
    assert check_columns(table, ok) == []
    assert "Different column type" in check_columns(table, [*ok[:1], {"name": "b", "type": "keyword"}, ok[2]])[0]
    assert "Different number of columns" in check_columns(table, ok[:2])[0]
    assert "Different column name" in check_columns(table, [{"name": "z", "type": "long"}, *ok[1:]])[0]


def test_warnings() -> None:
    assert warning_text('299 Elasticsearch-9.1.0-abcdef1 "Line 1:2: \\"x\\" failed" "Mon, 01 Jan 2024"') == (
        'Line 1:2: \\"x\\" failed'
    )
    (test,) = parse_spec("t\nROW a=1;\nwarning:w1\nwarning:w2\na:i\n;\n", "x.csv-spec")
    assert check_warnings(test, ["w2", "w1"]) == []
    assert check_warnings(test, ["w1"]) != []
    (regex_test,) = parse_spec("t\nROW a=1;\nwarningRegex:evaluation of \\[x\\] failed\na:i\n;\n", "x.csv-spec")
    assert check_warnings(regex_test, ["Line 1:1: evaluation of [x] failed, treating result as null"]) == []
    assert check_warnings(regex_test, ["other"]) == ["Unexpected warning: other"]
    (plain,) = parse_spec("t\nROW a=1;\na:i\n;\n", "x.csv-spec")
    assert check_warnings(plain, ["surprise"]) != []


def test_dataset_lines_and_documents_as_the_java_loader_builds_them() -> None:
    assert split_csv_line("a, [b, c\\,d] ,[],[x], e") == ["a", "b,c\\,d", "", "x", "e"]
    columns = [Column("k", "keyword"), Column("n", "long"), Column("t", "date"), Column("s.sub", "keyword")]
    assert doc(columns, ['"quoted"', "1,2", "2020-01-01", "v"], allow_subfields=False) == (
        None,
        '{"k":"quoted","n":[1,2],"t":"2020-01-01"}',
    )
    assert doc([Column("_id", None), Column("k", "keyword")], ["id1", "a\\,b"], True) == ("id1", '{"k":"a,b"}')
    assert doc([Column("k", "keyword"), Column("n", "integer")], ["", ""], True) == (None, "{}")


def test_dataset_mappings_fill_gaps_from_the_header_and_apply_variations() -> None:
    hosts = mapping_for(DATASETS["hosts"])["properties"]
    assert hosts["ip0"] == {"type": "ip"} and hosts["host_group"] == {"type": "text"}
    assert mapping_for(DATASETS["hosts_ip_is_kwd"])["properties"]["ip0"] == {"type": "keyword"}
    employees = mapping_for(DATASETS["employees"])["properties"]
    assert "languages.long" not in employees and employees["languages"]["fields"]["long"] == {"type": "long"}
    sample = mapping_for(DATASETS["sample_data_str"])["properties"]
    assert sample["client_ip"] == {"type": "keyword"} and sample["@timestamp"] == {"type": "date"}


def test_every_dataset_reads_cleanly() -> None:
    for dataset in DATASETS.values():
        if dataset.data:
            columns, rows = read_csv((FIXTURES / "data" / dataset.data).read_text(encoding="utf-8"))
            assert rows and all(c.type for c in columns), dataset.index


def test_scope_rules() -> None:
    def reason(query: str, capabilities: tuple[str, ...] = (), header: str = "a:keyword") -> str | None:
        (test,) = parse_spec(
            "t\n" + "".join(f"required_capability: {c}\n" for c in capabilities) + query + ";\n" + header + "\n;\n",
            "x.csv-spec",
        )
        return skip_reason(test, parse_expected(test.expected_text))

    assert reason("FROM employees | ENRICH languages_policy ON x") == "ENRICH: command ENRICH"
    assert (reason('FROM employees | WHERE MATCH(first_name, "x")') or "").startswith("Full-text search")
    assert (reason('FROM employees | WHERE first_name:"x"') or "").startswith("Full-text search")
    assert reason("FROM employees | EVAL x = a::long") is None
    assert reason('ROW a = "ENRICH x" | EVAL b = "st_x(1)"') is None  # words inside strings do not count
    assert reason("FROM employees | LOOKUP JOIN languages_lookup ON language_code", ("join_lookup_v12",)) is None
    assert (reason("FROM airports | LIMIT 1") or "").endswith("index airports")
    # an index pattern counts by its literal part
    assert (reason("FROM airports* METADATA _index | KEEP abbrev") or "").endswith("index airports")
    assert reason("FROM employees* | KEEP emp_no") is None
    assert (reason("ROW a = 1", header="a:geo_point") or "").endswith("column type geo_point")
    assert reason("FROM employees | INLINE STATS c = COUNT(*)") is not None
    assert reason("ROW a = 1", ("date_nanos_type",)) == "date_nanos: capability date_nanos_type"
    assert indices_read("FROM employees, lang* METADATA _index | LOOKUP JOIN languages_lookup ON x") == [
        "employees",
        "lang*",
        "languages_lookup",
    ]


def test_out_of_scope_features_are_documented() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "esql.md").read_text(encoding="utf-8")
    section = docs.split("## Out of scope", 1)[1].split("\n## ", 1)[0]
    missing = [feature.label for feature in OUT_OF_SCOPE if feature.label not in section]
    assert not missing, f"docs/esql.md 'Out of scope' does not list: {missing}"


def test_kit_files_are_well_formed_and_their_indices_exist() -> None:
    tests = kit_tests()
    assert len(tests) > 200
    known = set(DATASETS)
    for test in tests:
        if not test.expected_text.strip():
            continue  # no result table at all: Elasticsearch's loadCsvSpecValues fails on these too
        table = parse_expected(test.expected_text)  # every expected table reads
        if skip_reason(test, table) is not None:
            continue
        for name in indices_read(test.query):
            if "*" in name:
                assert any(re.fullmatch(name.replace("*", ".*"), index) for index in known), (test.id, name)
            else:
                assert name in known, f"{test.id} reads [{name}], which the kit does not load"


def test_failure_groups_blank_positions_names_and_numbers() -> None:
    assert failure_group("HTTP 400 verification_exception", "line 1:23: Unknown column [foo], did you mean [fo]?") == (
        "HTTP 400 verification_exception: Unknown column [...], did you mean [...]?"
    )
    assert failure_group("x", "found 12 rows in 3.5s") == "x: found N rows in Ns"


def test_settings_lines_before_the_query_are_not_query_text() -> None:
    spec = "t\nskip_columnar: ordering differs\nrequest_stored: skip\nROW x = 1;\n\nx:i\n1\n;\n"
    (test,) = parse_spec(spec, "x.csv-spec")
    assert test.query == "ROW x = 1"
    assert test.directives == {"skip_columnar": "ordering differs", "request_stored": "skip"}


def test_escaped_semicolon_and_regex_warning_lines() -> None:
    (test,) = parse_spec('t\nSET a = "b"\\;\nROW x = 1;\nwarning:Line \\d+:\\d+: boom\n\nx:i\n1\n;\n', "x.csv-spec")
    assert test.query == 'SET a = "b";\r\nROW x = 1'
    assert check_warnings(test, ["Line 3:7: boom"]) == []
    assert check_warnings(test, ["Line 3:7: bang"]) != []


def test_emulated_warning_alternatives() -> None:
    spec = "t\nROW x = 1;\nwarning:Line 1:24: pushed text#[Emulated:Line 1:28: evaluated text]\n\nx:i\n1\n;\n"
    (test,) = parse_spec(spec, "x.csv-spec")
    assert check_warnings(test, ["Line 1:24: pushed text"]) == []
    assert check_warnings(test, ["Line 1:28: evaluated text"]) == []
    assert check_warnings(test, ["Line 1:28: something else"]) != []

"""Realistic ES|QL queries parse into the expected AST."""

from __future__ import annotations

import pytest

from vigil.esql import ast, parse, to_esql
from vigil.esql.ast import (
    AggregateField,
    BinaryOp,
    Cast,
    Field,
    FieldRef,
    FunctionCall,
    IndexPattern,
    InList,
    IsNull,
    Like,
    ListLiteral,
    Literal,
    Param,
    QualifiedLiteral,
    RLike,
    SortKey,
    UnaryOp,
)

REALISTIC_QUERIES = [
    'FROM logs-* | WHERE service.name == "checkout" AND http.response.status_code >= 500 '
    "| STATS errors = COUNT(*) BY bucket = BUCKET(@timestamp, 1 hour) | SORT bucket ASC | LIMIT 24",
    "FROM .alerts-security.alerts-default METADATA _id, _index "
    '| WHERE kibana.alert.workflow_status IN ("open", "acknowledged") AND @timestamp > NOW() - 24 hours '
    "| SORT kibana.alert.risk_score DESC NULLS LAST "
    "| KEEP @timestamp, kibana.alert.rule.name, host.name | LIMIT 20",
    'ROW a = 1, b = "two", c = [1, 2, 3]',
    'FROM logs | DISSECT message "%{ts} %{level} %{msg}" APPEND_SEPARATOR=","',
    'FROM logs | GROK message "%{IP:client.ip} %{WORD:method}"',
    "FROM users | MV_EXPAND roles",
    "FROM events | LOOKUP JOIN threat_list ON source.ip",
    'FROM logs | EVAL x = CASE(status >= 500, "error", status >= 400, "warn", "ok")',
    'FROM logs | WHERE message LIKE "*fail*" OR message RLIKE "err.*"',
    "FROM logs | WHERE x IS NOT NULL AND y::long > 3",
    "FROM logs | RENAME a AS b, c AS d | DROP e*",
    "FROM logs | STATS p = PERCENTILE(latency, 95), m = MEDIAN(latency) BY host.name",
    "FROM logs | WHERE ?param > 1",
    "FROM logs | SORT a DESC NULLS FIRST, b",
    "from logs | where status != 200 | limit 5",
    "FROM logs-*, metrics-* | LIMIT 10",
    "FROM remote_cluster:logs-*, logs-* | LIMIT 1",
    'FROM "logs-2024.01.*" | KEEP message',
    "FROM logs-<logs-{now/d}> | LIMIT 1",
    "FROM logs | EVAL duration_ms = event.duration / 1000000.0 | WHERE duration_ms > 1.5e3",
    "FROM logs | EVAL pct = ROUND(100.0 * errors / total, 2) | SORT pct DESC",
    "FROM logs | STATS c = COUNT(*), u = COUNT_DISTINCT(user.name) BY host.name, service.name",
    "FROM logs | STATS BY host.name",
    'FROM logs | STATS fails = COUNT(*) WHERE event.outcome == "failure", total = COUNT(*) BY user.name',
    "FROM logs | STATS AVG(bytes)",
    "FROM logs | WHERE NOT (status >= 200 AND status < 300)",
    "FROM logs | WHERE status NOT IN (200, 201, 204) AND method IN (?m1, ?m2)",
    'FROM logs | WHERE url.path NOT LIKE "/health*" AND NOT user.name RLIKE "svc-.*"',
    "FROM logs | WHERE @timestamp >= NOW() - 7 days AND @timestamp < NOW()",
    "FROM logs | EVAL d = DATE_TRUNC(1 day, @timestamp) | STATS c = COUNT(*) BY d",
    'FROM logs | EVAL t = TO_DATETIME("2024-01-01T00:00:00Z") | WHERE @timestamp > t',
    "FROM logs | EVAL a = -x, b = - 1, c = x - -2, d = x % 3",
    'FROM logs | EVAL s = "tab\\there \\"quoted\\" back\\\\slash"',
    'FROM logs | EVAL p = """C:\\path "with" quotes"""',
    "FROM logs | KEEP `host name`, `weird.field`, `with``tick` | DROP host.*",
    "FROM logs | RENAME new_name = old_name",
    "FROM logs | EVAL x = ? + ?1 + ?name",
    "FROM logs // trailing comment\n| /* block /* nested */ comment */ WHERE a > 1",
    'ROW x = null, y = true, z = false, w = ["a", "b"], v = [1.5, -2]',
    "SHOW INFO",
    "FROM logs | ENRICH hosts_policy ON host.name WITH owner = team, location",
    "FROM logs | ENRICH _any:hosts_policy",
    'FROM logs | WHERE message : "connection refused"',
    "FROM logs | EVAL ip = TO_IP(client.ip)::string, n = count::double * 2",
    "FROM logs | WHERE a + b * c - d / e > f % g",
    "FROM logs | LOOKUP JOIN .threat-intel-* ON source.ip, destination.port | LIMIT 100",
    "FROM logs | MV_EXPAND tags | STATS c = COUNT(*) BY tags | SORT c DESC | LIMIT 10",
    "FROM logs | EVAL eval = 1, from = 2, limit = 3 | KEEP eval, from, limit",
]


@pytest.mark.parametrize("query", REALISTIC_QUERIES)
def test_realistic_queries_parse_and_round_trip(query: str) -> None:
    parsed = parse(query)
    assert isinstance(parsed, ast.Query)
    assert parse(to_esql(parsed)) == parsed


def test_stats_by_bucket_structure() -> None:
    query = parse(REALISTIC_QUERIES[0])
    assert query.source == ast.From((IndexPattern("logs-*"),))
    where, stats, sort, limit = query.commands
    assert where == ast.Where(
        BinaryOp(
            "AND",
            BinaryOp("==", FieldRef("service.name"), Literal("checkout", "string")),
            BinaryOp(">=", FieldRef("http.response.status_code"), Literal(500, "integer")),
        )
    )
    assert stats == ast.Stats(
        (AggregateField("errors", FunctionCall("count", star=True)),),
        (Field("bucket", FunctionCall("bucket", (FieldRef("@timestamp"), QualifiedLiteral(1, "hour")))),),
    )
    assert sort == ast.Sort((SortKey(FieldRef("bucket"), "ASC"),))
    assert limit == ast.Limit(24)


def test_alerts_query_structure() -> None:
    query = parse(REALISTIC_QUERIES[1])
    assert query.source == ast.From((IndexPattern(".alerts-security.alerts-default"),), ("_id", "_index"))
    where = query.commands[0]
    assert where == ast.Where(
        BinaryOp(
            "AND",
            InList(
                FieldRef("kibana.alert.workflow_status"),
                (Literal("open", "string"), Literal("acknowledged", "string")),
            ),
            BinaryOp(
                ">",
                FieldRef("@timestamp"),
                BinaryOp("-", FunctionCall("now"), QualifiedLiteral(24, "hours")),
            ),
        )
    )
    assert query.commands[1] == ast.Sort((SortKey(FieldRef("kibana.alert.risk_score"), "DESC", "LAST"),))
    assert query.commands[2] == ast.Keep(("@timestamp", "kibana.alert.rule.name", "host.name"))


def test_row_with_multivalue_literal() -> None:
    query = parse('ROW a = 1, b = "two", c = [1, 2, 3]')
    assert query.source == ast.Row(
        (
            Field("a", Literal(1, "integer")),
            Field("b", Literal("two", "string")),
            Field("c", ListLiteral(tuple(Literal(i, "integer") for i in (1, 2, 3)))),
        )
    )


def test_dissect_grok_mv_expand_lookup_join() -> None:
    assert parse(REALISTIC_QUERIES[3]).commands == (ast.Dissect(FieldRef("message"), "%{ts} %{level} %{msg}", ","),)
    assert parse(REALISTIC_QUERIES[4]).commands == (ast.Grok(FieldRef("message"), "%{IP:client.ip} %{WORD:method}"),)
    assert parse(REALISTIC_QUERIES[5]).commands == (ast.MvExpand("roles"),)
    assert parse(REALISTIC_QUERIES[6]).commands == (ast.LookupJoin(IndexPattern("threat_list"), ("source.ip",)),)


def test_case_function_and_predicates() -> None:
    (evaluation,) = parse(REALISTIC_QUERIES[7]).commands
    assert isinstance(evaluation, ast.Eval)
    case = evaluation.fields[0].expr
    assert isinstance(case, FunctionCall)
    assert case.name == "case"
    assert len(case.args) == 5
    (where,) = parse(REALISTIC_QUERIES[8]).commands
    assert where == ast.Where(BinaryOp("OR", Like(FieldRef("message"), "*fail*"), RLike(FieldRef("message"), "err.*")))
    (where,) = parse(REALISTIC_QUERIES[9]).commands
    assert where == ast.Where(
        BinaryOp(
            "AND",
            IsNull(FieldRef("x"), negated=True),
            BinaryOp(">", Cast(FieldRef("y"), "long"), Literal(3, "integer")),
        )
    )


def test_rename_drop_and_new_rename_form() -> None:
    assert parse("FROM logs | RENAME a AS b, c AS d | DROP e*").commands == (
        ast.Rename((ast.RenameClause("a", "b"), ast.RenameClause("c", "d"))),
        ast.Drop(("e*",)),
    )
    assert parse("FROM logs | RENAME b = a").commands == parse("FROM logs | RENAME a AS b").commands


def test_stats_aggregate_filter_and_by_only() -> None:
    text = 'FROM logs | STATS fails = COUNT(*) WHERE event.outcome == "failure", total = COUNT(*) BY user.name'
    stats = parse(text).commands[0]
    assert isinstance(stats, ast.Stats)
    assert stats.aggregates[0].where == BinaryOp("==", FieldRef("event.outcome"), Literal("failure", "string"))
    assert stats.aggregates[1].where is None
    assert parse("FROM logs | STATS BY host.name").commands == (ast.Stats((), (Field(None, FieldRef("host.name")),)),)


def test_operator_precedence() -> None:
    (where,) = parse("FROM t | WHERE a OR b AND NOT c == 1 + 2 * -d::long").commands
    assert isinstance(where, ast.Where)
    expected = BinaryOp(
        "OR",
        FieldRef("a"),
        BinaryOp(
            "AND",
            FieldRef("b"),
            UnaryOp(
                "NOT",
                BinaryOp(
                    "==",
                    FieldRef("c"),
                    BinaryOp(
                        "+",
                        Literal(1, "integer"),
                        BinaryOp("*", Literal(2, "integer"), UnaryOp("-", Cast(FieldRef("d"), "long"))),
                    ),
                ),
            ),
        ),
    )
    assert where.condition == expected


def test_left_associative_arithmetic_and_negative_literals() -> None:
    (evaluation,) = parse("FROM t | EVAL x = 10 - 3 - 2, y = -1, z = - 2.5").commands
    assert isinstance(evaluation, ast.Eval)
    x, y, z = (f.expr for f in evaluation.fields)
    assert x == BinaryOp("-", BinaryOp("-", Literal(10, "integer"), Literal(3, "integer")), Literal(2, "integer"))
    assert y == Literal(-1, "integer")
    assert z == Literal(-2.5, "decimal")


def test_params_and_strings() -> None:
    (evaluation,) = parse('FROM t | EVAL a = ?, b = ?1, c = ?name, d = "x\\ty\\n\\"z\\"", e = """a\\b"c"""').commands
    assert isinstance(evaluation, ast.Eval)
    values = [f.expr for f in evaluation.fields]
    assert values[:3] == [Param(None), Param("1"), Param("name")]
    assert values[3] == Literal('x\ty\n"z"', "string")
    assert values[4] == Literal('a\\b"c', "string")  # triple quotes: no escape processing


def test_backquoted_identifiers_and_keywords_as_field_names() -> None:
    (keep, drop) = parse("FROM t | KEEP `host name`, `a.b`, `x``y` | DROP host.*").commands
    assert keep == ast.Keep(("host name", "a.b", "x`y"))
    assert drop == ast.Drop(("host.*",))
    (evaluation,) = parse("FROM t | EVAL `first name` = user.`given name`").commands
    assert evaluation == ast.Eval((Field("first name", FieldRef("user.given name")),))


def test_function_names_are_lowercased_but_keep_their_text() -> None:
    (evaluation,) = parse("FROM t | EVAL x = To_Lower(name)").commands
    assert isinstance(evaluation, ast.Eval)
    call = evaluation.fields[0].expr
    assert isinstance(call, FunctionCall)
    assert (call.name, call.text) == ("to_lower", "To_Lower")


def test_from_sources_and_remote_clusters() -> None:
    query = parse('FROM logs-*, cluster_one:metrics-*, "quoted-*", .ds-logs-2024.01.01-000001')
    assert query.source == ast.From(
        (
            IndexPattern("logs-*"),
            IndexPattern("metrics-*", "cluster_one"),
            IndexPattern("quoted-*"),
            IndexPattern(".ds-logs-2024.01.01-000001"),
        )
    )


def test_enrich_and_match() -> None:
    (enrich,) = parse("FROM logs | ENRICH hosts ON host.name WITH owner = team, location").commands
    assert enrich == ast.Enrich(
        "hosts", "host.name", (ast.EnrichWith("owner", "team"), ast.EnrichWith(None, "location"))
    )
    (where,) = parse('FROM logs | WHERE message : "refused"').commands
    assert where == ast.Where(ast.Match(FieldRef("message"), Literal("refused", "string")))


def test_positions_are_one_based_and_span_lines() -> None:
    query = parse("FROM logs\n| WHERE a > 1\n  | LIMIT 5")
    assert (query.source.line, query.source.column) == (1, 1)
    where, limit = query.commands
    assert (where.line, where.column) == (2, 3)
    assert isinstance(where, ast.Where)
    # Like Elasticsearch, an expression is located where its text starts.
    assert (where.condition.line, where.condition.column) == (2, 9)
    assert (limit.line, limit.column) == (3, 5)


def test_commands_are_case_insensitive() -> None:
    assert parse("from logs | where A > 1 | Sort A desc | limit 3") == parse(
        "FROM logs | WHERE A > 1 | SORT A DESC | LIMIT 3"
    )


def test_long_prefix_chains_do_not_recurse() -> None:
    (where,) = parse("FROM t | WHERE " + "NOT " * 3000 + "a").commands
    assert isinstance(where, ast.Where)
    assert isinstance(where.condition, UnaryOp)
    (evaluation,) = parse("FROM t | EVAL x = " + "-" * 3001 + "1").commands
    assert evaluation == ast.Eval((Field("x", Literal(-1, "integer")),))


def test_printer_renders_canonical_text() -> None:
    text = "from logs | where not (a > 1 or b)   and c in (1,2) | eval x=(1+2)*3 | sort x desc nulls first"
    assert to_esql(parse(text)) == (
        "FROM logs | WHERE NOT (a > 1 OR b) AND c IN (1, 2) | EVAL x = (1 + 2) * 3 | SORT x DESC NULLS FIRST"
    )

"""Property tests: the parser never crashes on arbitrary text, and printed ASTs round-trip."""

from __future__ import annotations

import contextlib
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.esql import EsqlParsingError, ast, parse, to_esql
from vigil.esql.expressions import RESERVED

ESQL_ALPHABET = string.ascii_letters + string.digits + ' _@.,|()[]"`?*+-/%=<>!:\\\n\t'
FRAGMENTS = [
    "FROM ", "ROW ", "| ", "WHERE ", "EVAL ", "STATS ", " BY ", "SORT ", "LIMIT ", "KEEP ", "DROP ",
    "RENAME ", " AS ", "DISSECT ", "GROK ", "MV_EXPAND ", "LOOKUP JOIN ", " ON ", "ENRICH ", " WITH ",
    " AND ", " OR ", "NOT ", " IN ", " LIKE ", " RLIKE ", " IS ", " NULL", "::", "COUNT(*)", "(", ")",
    "[", "]", ",", "=", "==", '"', '"""', "`", "?", "?x", "1", "2.5", "1 hour", "a.b", "logs-*",
    " METADATA ", " NULLS FIRST", " DESC", "/*", "*/", "//", "\n",
]  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ESQL_ALPHABET, max_size=60))
def test_arbitrary_text_only_raises_parsing_errors(text: str) -> None:
    try:
        parse(text)
    except EsqlParsingError as error:
        assert error.line >= 1 and error.column >= 1


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
def test_query_shaped_text_only_raises_parsing_errors(text: str) -> None:
    try:
        parse(text)
    except EsqlParsingError as error:
        assert error.line >= 1 and error.column >= 1


@given(st.text(max_size=40))
def test_arbitrary_unicode_only_raises_parsing_errors(text: str) -> None:
    with contextlib.suppress(EsqlParsingError):
        parse(text)


# --- generated ASTs --------------------------------------------------------------------------

plain_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: n not in RESERVED)
field_names = st.one_of(
    st.lists(plain_names, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["@timestamp", "_id", "host name", "we`ird", "a..b", "and", "kibana.alert.rule.name"]),
)
strings = st.text(alphabet=string.printable, max_size=12)
numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(lambda v: ast.Literal(v, "integer")),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: ast.Literal(v, "decimal")),
)
literals = st.one_of(
    numbers,
    strings.map(lambda v: ast.Literal(v, "string")),
    st.booleans().map(lambda v: ast.Literal(v, "boolean")),
    st.just(ast.Literal(None, "null")),
)
leaves = st.one_of(
    literals,
    field_names.map(ast.FieldRef),
    st.builds(ast.QualifiedLiteral, st.integers(0, 1000), st.sampled_from(["hour", "days", "m", "ms"])),
    st.one_of(st.none(), plain_names, st.integers(1, 9).map(str)).map(ast.Param),
    st.lists(numbers.filter(lambda lit: lit.kind == "integer"), max_size=3).map(tuple).map(ast.ListLiteral),
    st.lists(strings.map(lambda v: ast.Literal(v, "string")), min_size=1, max_size=3).map(tuple).map(ast.ListLiteral),
)


def _not_number(expr: ast.Expr) -> bool:
    # The parser folds `-1` into a literal, so unary minus over a number is not canonical.
    return not (isinstance(expr, ast.Literal) and expr.kind in ("integer", "decimal"))


def _compound(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    return st.one_of(
        st.builds(ast.BinaryOp, st.sampled_from(["+", "-", "*", "/", "%", "AND", "OR"]), children, children),
        st.builds(ast.BinaryOp, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children),
        st.builds(ast.UnaryOp, st.just("NOT"), children),
        st.builds(ast.UnaryOp, st.just("-"), children.filter(_not_number)),
        st.builds(ast.FunctionCall, plain_names, st.lists(children, max_size=3).map(tuple)),
        st.just(ast.FunctionCall("count", star=True)),
        st.builds(ast.InList, children, st.lists(children, min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(ast.IsNull, children, st.booleans()),
        st.builds(ast.Like, children, strings, st.booleans()),
        st.builds(ast.RLike, children, strings, st.booleans()),
        st.builds(ast.Cast, children, st.sampled_from(["long", "double", "keyword", "datetime", "ip"])),
        st.builds(ast.Match, field_names.map(ast.FieldRef), literals),
    )


expressions = st.recursive(leaves, _compound, max_leaves=12)
opt_names = st.one_of(st.none(), field_names)
fields = st.lists(st.builds(ast.Field, opt_names, expressions), min_size=1, max_size=3).map(tuple)
patterns = st.lists(st.one_of(field_names, st.sampled_from(["host.*", "e*", "*", "*_id"])), min_size=1, max_size=3).map(
    tuple
)
index_patterns = st.builds(
    ast.IndexPattern,
    st.sampled_from(["logs-*", ".alerts-security.alerts-default", "metrics", "a b", "logs-<x-{now/d}>"]),
    st.sampled_from([None, "remote"]),
)
source_commands = st.one_of(
    st.builds(
        ast.From,
        st.lists(index_patterns, min_size=1, max_size=3).map(tuple),
        st.lists(st.sampled_from(["_id", "_index", "_score"]), max_size=2).map(tuple),
    ),
    st.builds(ast.Row, fields),
    st.just(ast.Show("INFO")),
)
processing_commands = st.one_of(
    st.builds(ast.Where, expressions),
    st.builds(ast.Eval, fields),
    st.builds(
        ast.Stats,
        st.lists(
            st.builds(ast.AggregateField, opt_names, expressions, st.one_of(st.none(), expressions)),
            min_size=1,
            max_size=2,
        ).map(tuple),
        st.lists(st.builds(ast.Field, opt_names, expressions), max_size=2).map(tuple),
    ),
    st.builds(
        ast.Sort,
        st.lists(
            st.builds(
                ast.SortKey,
                expressions,
                st.sampled_from([None, "ASC", "DESC"]),
                st.sampled_from([None, "FIRST", "LAST"]),
            ),
            min_size=1,
            max_size=2,
        ).map(tuple),
    ),
    st.builds(ast.Limit, st.integers(0, 10_000)),
    st.builds(ast.Keep, patterns),
    st.builds(ast.Drop, patterns),
    st.builds(ast.Rename, st.lists(st.builds(ast.RenameClause, field_names, field_names), min_size=1).map(tuple)),
    st.builds(ast.Dissect, field_names.map(ast.FieldRef), strings, st.one_of(st.none(), strings)),
    st.builds(ast.Grok, field_names.map(ast.FieldRef), strings),
    st.builds(ast.MvExpand, field_names),
    st.builds(ast.LookupJoin, index_patterns, st.lists(field_names, min_size=1, max_size=2).map(tuple)),
    st.builds(
        ast.Enrich,
        st.sampled_from(["hosts", "_any:hosts"]),
        st.one_of(st.none(), field_names),
        st.lists(st.builds(ast.EnrichWith, opt_names, field_names), max_size=2).map(tuple),
    ),
)
queries = st.builds(ast.Query, source_commands, st.lists(processing_commands, max_size=4).map(tuple))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(queries)
def test_printed_queries_round_trip(query: ast.Query) -> None:
    text = to_esql(query)
    assert parse(text) == query, text

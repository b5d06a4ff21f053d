"""Operators (arithmetic, comparison, logic, IN, IS NULL, LIKE, RLIKE, ``:``) as registry functions.

The verifier types them itself (their messages differ from ordinary functions); these objects
carry the result type and the SQL emitter. Integer arithmetic follows Java: truncating
division, remainder with the dividend's sign, and overflow or division by zero give null with a
warning instead of failing the query.
"""

from __future__ import annotations

import re

from vigil.esql import types as t
from vigil.esql.functions.registry import ANY, BOOLEAN, Emit, Function, fixed, p, sql_string
from vigil.esql.ir import Call, Const, TExpr

_OPERANDS = (p("left", ANY, "any"), p("right", ANY, "any"))


def _arithmetic_type(args: list[TExpr]) -> t.DataType:
    left, right = args[0].type, args[1].type
    if left == t.NULL:
        return right if right != t.NULL else t.NULL
    if right == t.NULL:
        return left
    return t.widest_numeric(left, right)


_WIDE = {t.INTEGER: "BIGINT", t.LONG: "HUGEINT", t.UNSIGNED_LONG: "HUGEINT"}
_RANGES = {t.INTEGER: (-(2**31), 2**31 - 1), t.LONG: (-(2**63), 2**63 - 1), t.UNSIGNED_LONG: (0, 2**64 - 1)}
_OVERFLOW = {
    t.INTEGER: "java.lang.ArithmeticException: integer overflow",
    t.LONG: "java.lang.ArithmeticException: long overflow",
    t.UNSIGNED_LONG: "java.lang.ArithmeticException: unsigned_long overflow",
}


def checked(e: Emit, call: Call, wide: str) -> str:
    """``wide`` (computed in a wider type) back in ``call.type``; out of range -> null + warning."""
    if call.type == t.DOUBLE:
        warn = e.warn(
            call,
            "java.lang.ArithmeticException: not a finite double number: {}",
            detail_sql=f"CASE WHEN {wide} > 0 THEN 'Infinity' WHEN {wide} < 0 THEN '-Infinity' ELSE 'NaN' END",
        )
        return f"(CASE WHEN {wide} IS NULL OR isfinite({wide}) THEN {wide} ELSE {warn} END)"
    low, high = _RANGES[call.type]
    warn = e.warn(call, _OVERFLOW[call.type])
    return (
        f"(CASE WHEN {wide} IS NULL THEN NULL WHEN {wide} BETWEEN {low} AND {high} "
        f"THEN CAST({wide} AS {call.type.sql}) ELSE {warn} END)"
    )


# A long result is computed in BIGINT and guarded by the same operation in DOUBLE (cheap, unlike
# HUGEINT): results within 0.25% of the long range count as overflow, a deliberate approximation.
_LONG_GUARD = "9.2e18"


def _cast_to(sql: str, source: t.DataType, target: t.DataType) -> str:
    return sql if source == target else f"CAST({sql} AS {target.sql})"


def _nonzero_constant(arg: TExpr) -> bool:
    return isinstance(arg, Const) and isinstance(arg.value, int | float) and arg.value not in (0, -1)


def _emit_arithmetic(op: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        if call.type == t.NULL:
            return "NULL"
        left, right = e.arg(call, 0), e.arg(call, 1)
        integral = call.type in (t.INTEGER, t.LONG, t.UNSIGNED_LONG)
        if op in ("/", "%") and _nonzero_constant(call.args[1]) and call.type != t.UNSIGNED_LONG:
            # Dividing by a constant other than 0 and -1 cannot fail: plain SQL.
            sql_op = "//" if op == "/" and integral else op
            cast = f"CAST({left} AS {call.type.sql})" if call.args[0].type != call.type else left
            return f"({cast} {sql_op} {_cast_to(right, call.args[1].type, call.type)})"
        if call.type == t.LONG and op in ("+", "-", "*"):
            guard = f"abs(CAST({left} AS DOUBLE) {op} CAST({right} AS DOUBLE))"
            exact = f"({_cast_to(left, call.args[0].type, t.LONG)} {op} {_cast_to(right, call.args[1].type, t.LONG)})"
            warn = e.warn(call, _OVERFLOW[t.LONG])
            return f"(CASE WHEN {guard} IS NULL THEN NULL WHEN {guard} < {_LONG_GUARD} THEN {exact} ELSE {warn} END)"
        wide_type = _WIDE.get(call.type, "DOUBLE")
        left = f"CAST({left} AS {wide_type})"
        right = f"CAST({right} AS {wide_type})"
        if op in ("/", "%"):
            sql_op = "//" if op == "/" and integral else op
            zero = e.warn(call, "java.lang.ArithmeticException: / by zero")
            result = checked(e, call, f"({left} {sql_op} NULLIF({right}, 0))")
            return f"(CASE WHEN {right} = 0 THEN {zero} ELSE {result} END)"
        return checked(e, call, f"({left} {op} {right})")

    return emit


ARITHMETIC = {
    op: Function(f"arithmetic{op}", _OPERANDS, _arithmetic_type, _emit_arithmetic(op))
    for op in ("+", "-", "*", "/", "%")
}


def _emit_date_arithmetic(op: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        left, right = e.arg(call, 0), e.arg(call, 1)
        if op == "-":
            return f"({left} - {right})"
        return f"({left} + {right})"

    return emit


DATE_ARITHMETIC = {
    op: Function(f"date{op}", _OPERANDS, fixed(t.DATETIME), _emit_date_arithmetic(op)) for op in ("+", "-")
}
AMOUNT_ARITHMETIC = {
    op: Function(f"amount{op}", _OPERANDS, lambda args: args[0].type, _emit_date_arithmetic(op)) for op in ("+", "-")
}


def _emit_neg(e: Emit, call: Call) -> str:
    value = e.arg(call, 0)
    if call.type in t.TEMPORAL_AMOUNTS or call.type == t.DOUBLE:
        return f"(-{value})"
    if call.type == t.NULL:
        return "NULL"
    return checked(e, call, f"(-CAST({value} AS {_WIDE.get(call.type, 'DOUBLE')}))")


NEG = Function("neg", (p("value", ANY, "numeric"),), lambda args: args[0].type, _emit_neg)

_SQL_COMPARISON = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _emit_comparison(op: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        left, right = e.arg(call, 0), e.arg(call, 1)
        if t.VERSION in (call.args[0].type, call.args[1].type) and op not in ("==", "!="):
            left, right = _version_key(left), _version_key(right)
        elif t.IP in (call.args[0].type, call.args[1].type) and op not in ("==", "!="):
            left, right = _ip_key(left), _ip_key(right)
        return f"({left} {_SQL_COMPARISON[op]} {right})"

    return emit


def _version_key(sql: str) -> str:
    # Compare dotted versions numerically part by part (1.10 > 1.9), as the version type does.
    return f"list_transform(string_split(regexp_replace({sql}, '[-+].*$', ''), '.'), lambda x: TRY_CAST(x AS BIGINT))"


def _ip_key(sql: str) -> str:
    """A sort/comparison key for IP text: the eight 16-bit groups of its IPv6 form (IPv4 mapped
    as ::ffff:a.b.c.d), so addresses order as Elasticsearch orders their bytes."""
    head = f"(CASE WHEN split_part({sql}, '::', 1) = '' THEN [] ELSE string_split(split_part({sql}, '::', 1), ':') END)"
    tail = f"(CASE WHEN split_part({sql}, '::', 2) = '' THEN [] ELSE string_split(split_part({sql}, '::', 2), ':') END)"
    zeros = f"list_transform(range(8 - len({head}) - len({tail})), lambda z: '0')"
    groups = (
        f"(CASE WHEN contains({sql}, '::') THEN list_concat({head}, {zeros}, {tail}) ELSE string_split({sql}, ':') END)"
    )
    v4 = f"list_transform(string_split({sql}, '.'), lambda o: TRY_CAST(o AS INTEGER))"
    return (
        f"(CASE WHEN {sql} IS NULL THEN NULL WHEN contains({sql}, ':') "
        f"THEN list_transform({groups}, lambda g: TRY_CAST('0x' || g AS INTEGER)) "
        f"ELSE [0, 0, 0, 0, 0, 65535, {v4}[1] * 256 + {v4}[2], {v4}[3] * 256 + {v4}[4]] END)"
    )


COMPARISONS = {
    op: Function(f"compare{op}", _OPERANDS, fixed(t.BOOLEAN), _emit_comparison(op)) for op in _SQL_COMPARISON
}


def _logical(op: str) -> Function:
    def emit(e: Emit, call: Call) -> str:
        return f"({e.arg(call, 0)} {op} {e.arg(call, 1)})"

    return Function(op.lower(), (p("left", BOOLEAN, "boolean"), p("right", BOOLEAN, "boolean")), fixed(t.BOOLEAN), emit)


LOGICAL = {"AND": _logical("AND"), "OR": _logical("OR")}
NOT = Function("not", (p("value", BOOLEAN, "boolean"),), fixed(t.BOOLEAN), lambda e, call: f"(NOT {e.arg(call, 0)})")


def _emit_in(e: Emit, call: Call) -> str:
    value = e.arg(call, 0)
    items = [e.arg(call, i) for i in range(1, len(call.args))]
    if call.args[0].type == t.NULL:
        return "CAST(NULL AS BOOLEAN)"
    return f"({value} IN ({', '.join(items)}))"


IN = Function("in", (p("value", ANY, "any"), p("items", ANY, "any")), fixed(t.BOOLEAN), _emit_in, variadic=True)


def _emit_is_null(negated: bool):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        arg = call.args[0]
        value = e.sql(arg)
        test = f"({value} IS NULL OR len({value}) = 0)" if arg.mv else f"({value} IS NULL)"
        return f"(NOT {test})" if negated else test

    return emit


IS_NULL = Function("is_null", (p("value", ANY, "any"),), fixed(t.BOOLEAN), _emit_is_null(False), mv_input=True)
IS_NOT_NULL = Function("is_not_null", (p("value", ANY, "any"),), fixed(t.BOOLEAN), _emit_is_null(True), mv_input=True)


def like_to_sql(pattern: str) -> str:
    """An ES|QL wildcard pattern (``*``, ``?``, ``\\`` escapes) as a SQL LIKE pattern with ``\\`` escape."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt in "%_\\" else nxt)
            i += 2
            continue
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _like_sql_pattern(e: Emit, call: Call, index: int) -> str:
    pattern = call.args[index]
    if isinstance(pattern, Const) and isinstance(pattern.value, str):
        return sql_string(like_to_sql(pattern.value))
    # A computed pattern: translate the wildcards at run time (escapes are not interpreted).
    value = e.arg(call, index)
    return (
        f"replace(replace(replace(replace(replace({value}, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), "
        f"'*', '%'), '?', '_')"
    )


def _emit_like(e: Emit, call: Call) -> str:
    value = e.arg(call, 0)
    tests = [f"{value} LIKE {_like_sql_pattern(e, call, i)} ESCAPE '\\'" for i in range(1, len(call.args))]
    return "(" + " OR ".join(tests) + ")"


def lucene_to_re2(pattern: str) -> str:
    """Lucene regular expressions are anchored and treat ``"`` as a quote; the rest maps as is."""
    return pattern.replace('\\"', '"')


def _emit_rlike(e: Emit, call: Call) -> str:
    value = e.arg(call, 0)
    tests = []
    for index in range(1, len(call.args)):
        pattern = call.args[index]
        if isinstance(pattern, Const) and isinstance(pattern.value, str):
            regex = sql_string(lucene_to_re2(pattern.value))
        else:
            regex = e.arg(call, index)
        tests.append(f"regexp_full_match({value}, {regex})")
    return "(" + " OR ".join(tests) + ")"


LIKE = Function(
    "like", (p("value", ANY, "string"), p("pattern", ANY, "string")), fixed(t.BOOLEAN), _emit_like, variadic=True
)
RLIKE = Function(
    "rlike", (p("value", ANY, "string"), p("pattern", ANY, "string")), fixed(t.BOOLEAN), _emit_rlike, variadic=True
)


def _emit_match(e: Emit, call: Call) -> str:
    field, query = call.args
    value = e.arg(call, 0)
    if field.type == t.TEXT and isinstance(query, Const) and isinstance(query.value, str):
        terms = [re.escape(term) for term in re.findall(r"\w+", query.value.lower())]
        if not terms:
            return "false"
        regex = sql_string(r"\b(" + "|".join(terms) + r")\b")
        return f"regexp_matches(lower({value}), {regex})"
    return f"({value} = {e.arg(call, 1)})"


MATCH = Function("match_operator", _OPERANDS, fixed(t.BOOLEAN), _emit_match)

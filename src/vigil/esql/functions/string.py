"""String functions, emitted as DuckDB's native string functions."""

from __future__ import annotations

from vigil.esql import types as t
from vigil.esql.functions.registry import (
    INTEGRAL,
    STRING,
    Emit,
    Function,
    call_sql,
    fixed,
    p,
    register,
)
from vigil.esql.ir import Call, TExpr

_STR = p("string", STRING, "string")
_INT = p("length", INTEGRAL, "integer")


def _keyword(args: list[TExpr]) -> t.DataType:
    return t.KEYWORD


def _simple(name: str, sql: str, params: tuple = (_STR,), result=_keyword) -> Function:  # type: ignore[no-untyped-def,type-arg]
    return register(Function(name, params, result, call_sql(sql)))


def _per_value(sql: str):  # type: ignore[no-untyped-def]
    """Applied to each value of a multi-value, as TO_LOWER and TO_UPPER are in Elasticsearch."""

    def emit(e: Emit, call: Call) -> str:
        if call.args[0].mv:
            return f"list_transform({e.sql(call.args[0])}, lambda v: {sql}(v))"
        return f"{sql}({e.arg(call, 0)})"

    return emit


register(Function("to_lower", (_STR,), _keyword, _per_value("lower"), mv_input=True, returns_mv=lambda a: a[0].mv))
register(Function("to_upper", (_STR,), _keyword, _per_value("upper"), mv_input=True, returns_mv=lambda a: a[0].mv))
_simple("reverse", "reverse")


def _emit_length(e: Emit, call: Call) -> str:
    return f"CAST(length({e.arg(call, 0)}) AS INTEGER)"


register(Function("length", (_STR,), fixed(t.INTEGER), _emit_length))
register(
    Function(
        "bit_length",
        (_STR,),
        fixed(t.INTEGER),
        lambda e, c: f"CAST(octet_length(encode({e.arg(c, 0)})) * 8 AS INTEGER)",
    )
)
register(
    Function(
        "byte_length", (_STR,), fixed(t.INTEGER), lambda e, c: f"CAST(octet_length(encode({e.arg(c, 0)})) AS INTEGER)"
    )
)

# Java's String.trim/strip whitespace, not only spaces.
_WHITESPACE = "' \t\n\r\u000b\u000c'"
register(Function("trim", (_STR,), _keyword, lambda e, c: f"trim({e.arg(c, 0)}, {_WHITESPACE})"))
register(Function("ltrim", (_STR,), _keyword, lambda e, c: f"ltrim({e.arg(c, 0)}, {_WHITESPACE})"))
register(Function("rtrim", (_STR,), _keyword, lambda e, c: f"rtrim({e.arg(c, 0)}, {_WHITESPACE})"))


def _emit_concat(e: Emit, call: Call) -> str:
    # `||` is null when any side is null, as CONCAT is in ES|QL (DuckDB's concat() skips nulls).
    return "(" + " || ".join(e.arg(call, i) for i in range(len(call.args))) + ")"


register(
    Function(
        "concat",
        (_STR, p("other", STRING, "string")),
        _keyword,
        _emit_concat,
        variadic=True,
    )
)


def _emit_substring(e: Emit, call: Call) -> str:
    value, start = e.arg(call, 0), e.arg(call, 1)
    # ES|QL: 1-based start, negative counts from the end, 0 behaves like 1.
    begin = (
        f"(CASE WHEN {start} < 0 THEN greatest(length({value}) + {start} + 1, 1) "
        f"WHEN {start} = 0 THEN 1 ELSE {start} END)"
    )
    if len(call.args) == 3:
        return f"substring({value}, {begin}, greatest({e.arg(call, 2)}, 0))"
    return f"substring({value}, {begin})"


register(
    Function(
        "substring",
        (_STR, p("start", INTEGRAL, "integer"), p("length", INTEGRAL, "integer", optional=True)),
        _keyword,
        _emit_substring,
    )
)


def _emit_left(e: Emit, call: Call) -> str:
    return f"left({e.arg(call, 0)}, greatest({e.arg(call, 1)}, 0))"


def _emit_right(e: Emit, call: Call) -> str:
    return f"right({e.arg(call, 0)}, greatest({e.arg(call, 1)}, 0))"


register(Function("left", (_STR, _INT), _keyword, _emit_left))
register(Function("right", (_STR, _INT), _keyword, _emit_right))


def _emit_locate(e: Emit, call: Call) -> str:
    value, sub = e.arg(call, 0), e.arg(call, 1)
    if len(call.args) == 3:
        start = f"greatest({e.arg(call, 2)}, 1)"
        found = f"strpos(substring({value}, {start}), {sub})"
        return f"CAST(CASE WHEN {found} = 0 THEN 0 ELSE {found} + {start} - 1 END AS INTEGER)"
    return f"CAST(strpos({value}, {sub}) AS INTEGER)"


register(
    Function(
        "locate",
        (_STR, p("substring", STRING, "string"), p("start", INTEGRAL, "integer", optional=True)),
        fixed(t.INTEGER),
        _emit_locate,
    )
)


# Elasticsearch refuses to build strings over 1 MiB (null and a warning): a query must not be able
# to make the server allocate gigabytes (REPEAT("ab", 2147483647) would ask for 4 GiB).
MAX_BUILT_STRING_BYTES = 1024 * 1024


def _emit_repeat(e: Emit, call: Call) -> str:
    value, count = e.arg(call, 0), e.arg(call, 1)
    negative = e.warn(
        call,
        "java.lang.IllegalArgumentException: Number parameter cannot be negative, found [{}]",
        detail_sql=count,
    )
    too_big = e.warn(
        call,
        "java.lang.IllegalArgumentException: Creating repeated strings with more than "
        f"[{MAX_BUILT_STRING_BYTES}] bytes is not supported",
    )
    oversized = f"CAST(strlen({value}) AS BIGINT) * {count} > {MAX_BUILT_STRING_BYTES}"
    # The count given to repeat() is bounded too: DuckDB folds a constant branch at planning time,
    # before CASE picks it, so REPEAT("ab", 2147483647) in a ROW would still build 4 GiB.
    return (
        f"(CASE WHEN {count} < 0 THEN {negative} WHEN {oversized} THEN {too_big} "
        # VARCHAR: an untyped null would pick DuckDB's BLOB overload of repeat().
        f"ELSE repeat(CAST({value} AS VARCHAR), CASE WHEN {oversized} THEN 0 ELSE {count} END) END)"
    )


register(Function("repeat", (_STR, p("number", INTEGRAL, "integer")), _keyword, _emit_repeat))


def _emit_space(e: Emit, call: Call) -> str:
    count = e.arg(call, 0)
    negative = e.warn(
        call,
        "java.lang.IllegalArgumentException: Number parameter cannot be negative, found [{}]",
        detail_sql=count,
    )
    too_big = e.warn(
        call,
        f"java.lang.IllegalArgumentException: Creating strings with more than [{MAX_BUILT_STRING_BYTES}] bytes "
        "is not supported",
    )
    return (
        f"(CASE WHEN {count} < 0 THEN {negative} WHEN {count} > {MAX_BUILT_STRING_BYTES} THEN {too_big} "
        # Bounded like REPEAT's (LEAST would turn a null count into the bound).
        f"ELSE repeat(' ', CASE WHEN {count} > {MAX_BUILT_STRING_BYTES} THEN 0 ELSE {count} END) END)"
    )


register(Function("space", (p("number", INTEGRAL, "integer"),), _keyword, _emit_space))


def _emit_replace(e: Emit, call: Call) -> str:
    # REPLACE takes a Java regular expression; Java's `$1` group references become RE2's `\1`.
    replacement = f"regexp_replace({e.arg(call, 2)}, '\\$(\\d)', '\\\\\\1', 'g')"
    return f"regexp_replace({e.arg(call, 0)}, {e.arg(call, 1)}, {replacement}, 'g')"


register(
    Function(
        "replace",
        (_STR, p("regex", STRING, "string"), p("newString", STRING, "string")),
        _keyword,
        _emit_replace,
    )
)

register(
    Function(
        "starts_with",
        (p("str", STRING, "string"), p("prefix", STRING, "string")),
        fixed(t.BOOLEAN),
        call_sql("starts_with"),
    )
)
register(
    Function(
        "ends_with",
        (p("str", STRING, "string"), p("suffix", STRING, "string")),
        fixed(t.BOOLEAN),
        call_sql("suffix"),
    )
)


def _emit_split(e: Emit, call: Call) -> str:
    return f"string_split({e.arg(call, 0)}, {e.arg(call, 1)})"


register(
    Function(
        "split",
        (_STR, p("delim", STRING, "string")),
        _keyword,
        _emit_split,
        returns_mv=lambda args: True,
    )
)


def _emit_md5(algorithm: str):  # type: ignore[no-untyped-def]
    return lambda e, c: f"{algorithm}({e.arg(c, 0)})"


register(Function("md5", (_STR,), _keyword, _emit_md5("md5")))
register(Function("sha256", (_STR,), _keyword, _emit_md5("sha256")))
register(Function("sha1", (_STR,), _keyword, _emit_md5("sha1")))


def _emit_contains(e: Emit, call: Call) -> str:
    return f"contains({e.arg(call, 0)}, {e.arg(call, 1)})"


register(Function("contains", (_STR, p("substring", STRING, "string")), fixed(t.BOOLEAN), _emit_contains))


register(Function("url_encode", (_STR,), _keyword, lambda e, c: f"replace(url_encode({e.arg(c, 0)}), '%20', '+')"))
register(Function("url_encode_component", (_STR,), _keyword, lambda e, c: f"url_encode({e.arg(c, 0)})"))
register(Function("url_decode", (_STR,), _keyword, lambda e, c: f"url_decode(replace({e.arg(c, 0)}, '+', ' '))"))
register(Function("to_base64", (_STR,), _keyword, lambda e, c: f"to_base64(encode({e.arg(c, 0)}))"))
register(Function("from_base64", (_STR,), _keyword, lambda e, c: f"decode(from_base64({e.arg(c, 0)}))"))

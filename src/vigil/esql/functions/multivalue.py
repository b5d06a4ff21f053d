"""MV_* functions: they read a whole multi-value (a DuckDB LIST) and return one value or a list."""

from __future__ import annotations

from vigil.esql import types as t
from vigil.esql.functions.registry import (
    ANY,
    INTEGRAL,
    NUMERIC,
    STRING,
    Emit,
    Function,
    const_value,
    fixed,
    p,
    register,
    same_as_first,
)
from vigil.esql.ir import Call, Const, TExpr

_ANY = p("field", ANY, "any")
_NUM = p("number", NUMERIC, "numeric")


def _mv_function(name: str, params, result, body, returns_mv=False) -> None:  # type: ignore[no-untyped-def]
    register(
        Function(
            name,
            params,
            result,
            body,
            mv_input=True,
            returns_mv=(lambda args: True) if returns_mv else (lambda args: False),
        )
    )


def _nonempty(sql: str) -> str:
    """A list, or NULL when it is empty (ES|QL has no empty multi-values)."""
    return f"(CASE WHEN len({sql}) = 0 THEN NULL ELSE {sql} END)"


_mv_function("mv_count", (_ANY,), fixed(t.INTEGER), lambda e, c: f"CAST(len({e.list_arg(c, 0)}) AS INTEGER)")
_mv_function("mv_first", (_ANY,), same_as_first, lambda e, c: f"({e.list_arg(c, 0)})[1]")
_mv_function("mv_last", (_ANY,), same_as_first, lambda e, c: f"({e.list_arg(c, 0)})[-1]")


def _extreme(list_fn: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        arg = call.args[0]
        if arg.type in (t.IP, t.VERSION):
            from vigil.esql.functions.operators import _ip_key, _version_key

            key = _ip_key("x") if arg.type == t.IP else _version_key("x")
            order = "list_sort" if list_fn == "list_min" else "list_reverse_sort"
            return f"({order}(list_transform({e.list_arg(call, 0)}, lambda x: {{'k': {key}, 'v': x}})))[1].v"
        return f"{list_fn}({e.list_arg(call, 0)})"

    return emit


_mv_function("mv_min", (_ANY,), same_as_first, _extreme("list_min"))
_mv_function("mv_max", (_ANY,), same_as_first, _extreme("list_max"))


def _emit_mv_sum(e: Emit, call: Call) -> str:
    total = f"list_sum({e.list_arg(call, 0)})"
    if call.type in (t.INTEGER, t.LONG):
        from vigil.esql.functions.operators import checked

        return checked(e, call, total)
    return f"CAST({total} AS {call.type.sql})"


_mv_function("mv_sum", (_NUM,), same_as_first, _emit_mv_sum)
_mv_function("mv_avg", (_NUM,), fixed(t.DOUBLE), lambda e, c: f"list_avg({e.list_arg(c, 0)})")


def _emit_mv_median(e: Emit, call: Call) -> str:
    values = e.list_arg(call, 0)
    median = f"list_aggregate({values}, 'quantile_cont', 0.5)"
    if call.type in (t.INTEGER, t.LONG):
        # Integer medians average the two middle values and round toward negative infinity.
        return f"CAST(floor({median}) AS {call.type.sql})"
    return median


_mv_function("mv_median", (_NUM,), same_as_first, _emit_mv_median)


def _emit_mv_mad(e: Emit, call: Call) -> str:
    values = e.list_arg(call, 0)
    median = f"list_aggregate({values}, 'quantile_cont', 0.5)"
    mad = f"list_aggregate(list_transform({values}, lambda x: abs(x - {median})), 'quantile_cont', 0.5)"
    if call.type in (t.INTEGER, t.LONG):
        return f"CAST(floor({mad}) AS {call.type.sql})"
    return mad


_mv_function("mv_median_absolute_deviation", (_NUM,), same_as_first, _emit_mv_mad)


def _emit_mv_percentile(e: Emit, call: Call) -> str:
    values = e.list_arg(call, 0)
    fraction = f"(CAST({e.arg(call, 1)} AS DOUBLE) / 100)"
    result = f"list_aggregate({values}, 'quantile_cont', {fraction})"
    if call.type in (t.INTEGER, t.LONG):
        return f"CAST(floor({result}) AS {call.type.sql})"
    return result


_mv_function("mv_percentile", (_NUM, p("percentile", NUMERIC, "numeric")), same_as_first, _emit_mv_percentile)


def _emit_mv_concat(e: Emit, call: Call) -> str:
    values, delimiter = e.list_arg(call, 0), e.arg(call, 1)
    if isinstance(call.args[1], Const):
        return f"array_to_string({values}, {delimiter})"
    return f"list_reduce({values}, lambda a, b: a || {delimiter} || b)"


_mv_function(
    "mv_concat", (p("string", STRING, "string"), p("delim", STRING, "string")), fixed(t.KEYWORD), _emit_mv_concat
)


def _emit_mv_dedupe(e: Emit, call: Call) -> str:
    # Keep the first occurrence of each value, in order.
    values = e.list_arg(call, 0)
    return (
        f"list_transform(list_filter(list_zip({values}, generate_series(1, len({values}))), "
        f"lambda x: list_position({values}, x[1]) = x[2]), lambda x: x[1])"
    )


_mv_function("mv_dedupe", (_ANY,), same_as_first, _emit_mv_dedupe, returns_mv=True)


def _emit_mv_sort(e: Emit, call: Call) -> str:
    order = "ASC"
    if len(call.args) > 1:
        value = const_value(call.args[1])
        order = "DESC" if isinstance(value, str) and value.lower() == "desc" else "ASC"
    arg = call.args[0]
    if arg.type in (t.IP, t.VERSION):
        from vigil.esql.functions.operators import _ip_key, _version_key

        key = _ip_key("x") if arg.type == t.IP else _version_key("x")
        fn = "list_sort" if order == "ASC" else "list_reverse_sort"
        keyed = f"list_transform({e.list_arg(call, 0)}, lambda x: {{'k': {key}, 'v': x}})"
        return f"list_transform({fn}({keyed}), lambda x: x.v)"
    return f"list_sort({e.list_arg(call, 0)}, '{order}')"


def _check_mv_sort(call: Call) -> str | None:
    if len(call.args) > 1:
        value = const_value(call.args[1])
        if isinstance(value, str) and value.lower() not in ("asc", "desc"):
            return f"Invalid order value in [{call.source}], expected one of [ASC, DESC] but got [{value}]"
    return None


def _mv_sort_type(args: list[TExpr]) -> t.DataType:
    # Elasticsearch answers a sorted text field as keyword (lookup-join.nonUniqueRightKeyOnTheDataNode).
    type_ = same_as_first(args)
    return t.KEYWORD if type_ == t.TEXT else type_


register(
    Function(
        "mv_sort",
        (_ANY, p("order", STRING, "string", optional=True, constant=True)),
        _mv_sort_type,
        _emit_mv_sort,
        mv_input=True,
        returns_mv=lambda args: True,
        check=_check_mv_sort,
    )
)


def _emit_mv_slice(e: Emit, call: Call) -> str:
    values = e.list_arg(call, 0)
    start = e.arg(call, 1)
    end = e.arg(call, 2) if len(call.args) > 2 else start
    size = f"len({values})"
    # 0-based inclusive bounds; negative ones count from the end.
    begin = f"(CASE WHEN {start} < 0 THEN {size} + {start} ELSE {start} END)"
    finish = f"(CASE WHEN {end} < 0 THEN {size} + {end} ELSE {end} END)"
    return _nonempty(f"list_slice({values}, {begin} + 1, {finish} + 1)")


_mv_function(
    "mv_slice",
    (_ANY, p("start", INTEGRAL, "integer"), p("end", INTEGRAL, "integer", optional=True)),
    same_as_first,
    _emit_mv_slice,
    returns_mv=True,
)


def _emit_mv_zip(e: Emit, call: Call) -> str:
    left, right = e.list_arg(call, 0), e.list_arg(call, 1)
    delim = e.arg(call, 2) if len(call.args) > 2 else "','"
    return (
        f"(CASE WHEN {left} IS NULL AND {right} IS NULL THEN NULL ELSE list_transform("
        f"generate_series(1, greatest(COALESCE(len({left}), 0), COALESCE(len({right}), 0))), "
        f"lambda i: CASE WHEN COALESCE({left}, [])[i] IS NULL THEN {right}[i] "
        f"WHEN COALESCE({right}, [])[i] IS NULL THEN {left}[i] ELSE {left}[i] || {delim} || {right}[i] END) END)"
    )


_mv_function(
    "mv_zip",
    (p("string1", STRING, "string"), p("string2", STRING, "string"), p("delim", STRING, "string", optional=True)),
    fixed(t.KEYWORD),
    _emit_mv_zip,
    returns_mv=True,
)


def _emit_mv_append(e: Emit, call: Call) -> str:
    left, right = e.list_arg(call, 0), e.list_arg(call, 1)
    if call.args[0].type != call.args[1].type and t.NULL not in (call.args[0].type, call.args[1].type):
        left, right = f"CAST({left} AS {call.type.sql}[])", f"CAST({right} AS {call.type.sql}[])"
    # Like every ES|QL function but a few, null when either side is null.
    return f"(CASE WHEN {left} IS NULL OR {right} IS NULL THEN NULL ELSE list_concat({left}, {right}) END)"


def _append_type(args: list[TExpr]) -> t.DataType:
    return t.common_type([a.type for a in args]) or args[0].type


register(
    Function(
        "mv_append",
        (_ANY, p("field2", ANY, "any")),
        _append_type,
        _emit_mv_append,
        mv_input=True,
        returns_mv=lambda args: True,
    )
)


def _emit_mv_contains(e: Emit, call: Call) -> str:
    superset, subset = e.list_arg(call, 0), e.list_arg(call, 1)
    return (
        f"(CASE WHEN {subset} IS NULL THEN true WHEN {superset} IS NULL THEN false "
        f"ELSE list_has_all({superset}, {subset}) END)"
    )


register(Function("mv_contains", (_ANY, p("subset", ANY, "any")), fixed(t.BOOLEAN), _emit_mv_contains, mv_input=True))

"""Aggregate functions for STATS. Multi-valued inputs count every value, as in Elasticsearch:
``sum(list_sum(x))`` for sums, ``flatten(list(x))`` where the whole population is needed."""

from __future__ import annotations

from vigil.esql import types as t
from vigil.esql.functions.registry import (
    ANY,
    NUMERIC,
    Emit,
    Function,
    const_value,
    fixed,
    p,
    register,
    same_as_first,
)
from vigil.esql.ir import Call, TExpr

_NUMERIC_AGG = p("number", NUMERIC, "aggregate_metric_double or numeric except unsigned_long or counter types")
_ORDERED = frozenset({*t.NUMERIC_TYPES, t.DATETIME, t.BOOLEAN, t.IP, t.VERSION, t.KEYWORD, t.TEXT})


def _values_sql(e: Emit, call: Call) -> str:
    """All values of the first argument in the group as one LIST (nulls dropped)."""
    arg = call.args[0]
    value = e.sql(arg)
    if arg.mv:
        return f"flatten({e.aggregate('list', value)})"
    return f"list_filter({e.aggregate('list', value)}, lambda x: x IS NOT NULL)"


def _emit_count(e: Emit, call: Call) -> str:
    if not call.args:
        return e.aggregate("count", "*")
    arg = call.args[0]
    value = e.sql(arg)
    if arg.mv:
        return f"COALESCE({e.aggregate('sum', f'len({value})')}, 0)"
    if arg.type == t.NULL and not isinstance(arg, Call):
        return "CAST(0 AS BIGINT)"
    return e.aggregate("count", value)


register(
    Function(
        "count", (p("field", ANY, "any", optional=True),), fixed(t.LONG), _emit_count, aggregate=True, mv_input=True
    )
)


def _emit_count_distinct(e: Emit, call: Call) -> str:
    arg = call.args[0]
    value = e.sql(arg)
    if arg.mv:
        return f"CAST(len(list_distinct({_values_sql(e, call)})) AS BIGINT)"
    return e.aggregate("count", f"DISTINCT {value}")


register(
    Function(
        "count_distinct",
        (p("field", ANY, "any"), p("precision", frozenset(t.INTEGRAL_TYPES), "integer", optional=True, constant=True)),
        fixed(t.LONG),
        _emit_count_distinct,
        aggregate=True,
        mv_input=True,
    )
)


def _sum_type(args: list[TExpr]) -> t.DataType:
    if args[0].type == t.NULL:
        return t.NULL
    return t.DOUBLE if args[0].type == t.DOUBLE else t.LONG


def _emit_sum(e: Emit, call: Call) -> str:
    arg = call.args[0]
    if call.type == t.NULL:
        return "NULL"
    value = e.sql(arg)
    inner = f"list_sum({value})" if arg.mv else value
    # Doubles are summed with compensation (Kahan), as Elasticsearch does.
    total = e.aggregate("fsum" if call.type == t.DOUBLE else "sum", inner)
    if call.type == t.LONG:
        from vigil.esql.functions.operators import checked

        return checked(e, call, total)
    return total


register(Function("sum", (_NUMERIC_AGG,), _sum_type, _emit_sum, aggregate=True, mv_input=True))


def _emit_avg(e: Emit, call: Call) -> str:
    arg = call.args[0]
    value = e.sql(arg)
    if arg.mv:
        total = e.aggregate("sum", f"list_sum({value})")
        count = e.aggregate("sum", f"len({value})")
        return f"(CAST({total} AS DOUBLE) / NULLIF({count}, 0))"
    if arg.type == t.DOUBLE:
        return f"({e.aggregate('fsum', value)} / NULLIF({e.aggregate('count', value)}, 0))"
    return e.aggregate("avg", value)  # DOUBLE for integer inputs, summed exactly


register(Function("avg", (_NUMERIC_AGG,), fixed(t.DOUBLE), _emit_avg, aggregate=True, mv_input=True))


def _extreme(name: str, list_name: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        arg = call.args[0]
        value = e.sql(arg)
        if arg.mv:
            value = f"{list_name}({value})"
        if arg.type in (t.IP, t.VERSION):
            # Order by the typed key, return the original text.
            from vigil.esql.functions.operators import _ip_key, _version_key

            key = _ip_key("x") if arg.type == t.IP else _version_key("x")
            values = _values_sql(e, call)
            order = "list_sort" if name == "min" else "list_reverse_sort"
            return f"({order}(list_transform({values}, lambda x: {{'k': {key}, 'v': x}})))[1].v"
        return e.aggregate(name, value)

    return emit


register(
    Function(
        "min",
        (p("field", _ORDERED, "boolean, date, ip, string or numeric"),),
        same_as_first,
        _extreme("min", "list_min"),
        aggregate=True,
        mv_input=True,
    )
)
register(
    Function(
        "max",
        (p("field", _ORDERED, "boolean, date, ip, string or numeric"),),
        same_as_first,
        _extreme("max", "list_max"),
        aggregate=True,
        mv_input=True,
    )
)


def _quantile(e: Emit, call: Call, fraction: str) -> str:
    arg = call.args[0]
    value = e.sql(arg)
    if arg.mv:
        return f"list_aggregate({_values_sql(e, call)}, 'quantile_cont', {fraction})"
    return e.aggregate("quantile_cont", f"CAST({value} AS DOUBLE), {fraction}")


register(
    Function(
        "median", (_NUMERIC_AGG,), fixed(t.DOUBLE), lambda e, c: _quantile(e, c, "0.5"), aggregate=True, mv_input=True
    )
)


def _emit_percentile(e: Emit, call: Call) -> str:
    fraction = float(const_value(call.args[1]) or 0) / 100
    if not 0 <= fraction <= 1:
        return "CAST(NULL AS DOUBLE)"
    return _quantile(e, call, repr(fraction))


def _check_percentile(call: Call) -> str | None:
    value = const_value(call.args[1])
    if isinstance(value, int | float) and not 0 <= value <= 100:
        return f"Percentile must be a value between 0 and 100, found [{value}]"
    return None


register(
    Function(
        "percentile",
        (_NUMERIC_AGG, p("percentile", NUMERIC, "numeric except unsigned_long", constant=True)),
        fixed(t.DOUBLE),
        _emit_percentile,
        aggregate=True,
        mv_input=True,
        check=_check_percentile,
    )
)


def _emit_mad(e: Emit, call: Call) -> str:
    values = _values_sql(e, call)
    median = f"list_aggregate({values}, 'quantile_cont', 0.5)"
    return (
        f"list_aggregate(list_transform({values}, lambda x: abs(CAST(x AS DOUBLE) - {median})), 'quantile_cont', 0.5)"
    )


register(
    Function("median_absolute_deviation", (_NUMERIC_AGG,), fixed(t.DOUBLE), _emit_mad, aggregate=True, mv_input=True)
)


def _emit_values(e: Emit, call: Call) -> str:
    values = f"list_sort(list_distinct({_values_sql(e, call)}))"
    return f"(CASE WHEN len({values}) = 0 THEN NULL ELSE {values} END)"


register(
    Function(
        "values",
        (p("field", ANY, "any"),),
        same_as_first,
        _emit_values,
        aggregate=True,
        mv_input=True,
        returns_mv=lambda args: True,
    )
)


def _emit_top(e: Emit, call: Call) -> str:
    if call.type == t.NULL or call.args[0].type == t.NULL:
        return "NULL"
    limit = int(const_value(call.args[1]) or 0)
    order = str(const_value(call.args[2]) or "asc").lower() if len(call.args) > 2 else "asc"
    direction = "DESC" if order == "desc" else "ASC"
    if len(call.args) > 3:
        # TOP(field, n, order, output): the output values of the rows with the top `field` values.
        key, output = e.arg(call, 0), e.arg(call, 3)
        pairs = f"list_filter({e.aggregate('list', f'{{k: {key}, v: {output}}}')}, lambda p: p.k IS NOT NULL)"
        values = f"list_transform(list_slice(list_sort({pairs}, '{direction}'), 1, {limit}), lambda p: p.v)"
    else:
        values = f"list_slice(list_sort({_values_sql(e, call)}, '{direction}'), 1, {limit})"
    return f"(CASE WHEN len({values}) = 0 THEN NULL ELSE {values} END)"


def _top_type(args: list[TExpr]) -> t.DataType:
    return args[3].type if len(args) > 3 else args[0].type


def _check_top(call: Call) -> str | None:
    limit = const_value(call.args[1])
    if isinstance(limit, int) and limit <= 0:
        return f"Limit must be greater than 0 in [{call.source}], found [{limit}]"
    if len(call.args) > 2:
        order = const_value(call.args[2])
        if isinstance(order, str) and order.lower() not in ("asc", "desc"):
            return f"Invalid order value in [{call.source}], expected [ASC, DESC] but got [{order}]"
    return None


register(
    Function(
        "top",
        (
            p("field", _ORDERED | {t.NULL}, "boolean or date or ip or string or numeric"),
            p("limit", frozenset(t.INTEGRAL_TYPES), "integer", constant=True),
            p("order", frozenset(t.STRING_TYPES), "keyword", optional=True, constant=True),
            p("outputField", ANY, "any", optional=True),
        ),
        _top_type,
        _emit_top,
        aggregate=True,
        mv_input=True,
        returns_mv=lambda args: True,
        check=_check_top,
    )
)


def _emit_std_dev(e: Emit, call: Call) -> str:
    values = _values_sql(e, call)
    return f"list_aggregate(list_transform({values}, lambda x: CAST(x AS DOUBLE)), 'stddev_pop')"


register(Function("std_dev", (_NUMERIC_AGG,), fixed(t.DOUBLE), _emit_std_dev, aggregate=True, mv_input=True))


def _emit_variance(e: Emit, call: Call) -> str:
    values = _values_sql(e, call)
    return f"list_aggregate(list_transform({values}, lambda x: CAST(x AS DOUBLE)), 'var_pop')"


register(Function("variance", (_NUMERIC_AGG,), fixed(t.DOUBLE), _emit_variance, aggregate=True, mv_input=True))


def _emit_weighted_avg(e: Emit, call: Call) -> str:
    value, weight = e.arg(call, 0), e.arg(call, 1)
    return (
        f"(CAST({e.aggregate('sum', f'CAST({value} AS DOUBLE) * {weight}')} AS DOUBLE) / "
        f"NULLIF({e.aggregate('sum', f'CASE WHEN {value} IS NOT NULL THEN {weight} END')}, 0))"
    )


register(
    Function(
        "weighted_avg",
        (_NUMERIC_AGG, p("weight", NUMERIC, "numeric")),
        fixed(t.DOUBLE),
        _emit_weighted_avg,
        aggregate=True,
    )
)


def _emit_present(present: bool):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        arg = call.args[0]
        value = e.sql(arg)
        counted = e.aggregate("sum", f"len({value})") if arg.mv else e.aggregate("count", value)
        return f"(COALESCE({counted}, 0) {'>' if present else '='} 0)"

    return emit


register(
    Function("present", (p("field", ANY, "any"),), fixed(t.BOOLEAN), _emit_present(True), aggregate=True, mv_input=True)
)
register(
    Function("absent", (p("field", ANY, "any"),), fixed(t.BOOLEAN), _emit_present(False), aggregate=True, mv_input=True)
)


def _emit_first_last(function: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        if call.type == t.NULL:
            return "NULL"
        value, sort = e.sql(call.args[0]), e.arg(call, 1)
        if call.args[0].mv:
            value = f"(CASE WHEN len({value}) = 1 THEN ({value})[1] END)"
        return e.aggregate(function, f"{value}, {sort}")

    return emit


register(
    Function(
        "first",
        (p("value", ANY, "any"), p("sort", _ORDERED, "date or numeric")),
        same_as_first,
        _emit_first_last("arg_min"),
        aggregate=True,
        mv_input=True,
    )
)
register(
    Function(
        "last",
        (p("value", ANY, "any"), p("sort", _ORDERED, "date or numeric")),
        same_as_first,
        _emit_first_last("arg_max"),
        aggregate=True,
        mv_input=True,
    )
)

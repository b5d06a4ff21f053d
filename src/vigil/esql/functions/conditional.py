"""CASE, COALESCE, GREATEST and LEAST."""

from __future__ import annotations

from vigil.esql import types as t
from vigil.esql.functions.registry import ANY, ORDINALS, Emit, Function, p, register
from vigil.esql.ir import Call, TExpr

# CASE and COALESCE also carry temporal amounts (`d + CASE(c, 1 day, 1 month)`).
_VALUES = ANY | t.TEMPORAL_AMOUNTS


def _values(call_args: list[TExpr], case: bool) -> list[tuple[int, TExpr]]:
    if not case:
        return list(enumerate(call_args))
    values = [(i + 1, a) for i, a in enumerate(call_args) if i % 2 == 1]
    if len(call_args) % 2 == 1:
        values.append((len(call_args) - 1, call_args[-1]))
    return values


def _common(call_args: list[TExpr], case: bool) -> t.DataType:
    types = [a.type for _, a in _values(call_args, case)]
    return t.common_type(types) or types[0]


def _check_common(case: bool):  # type: ignore[no-untyped-def]
    def check(call: Call) -> str | None:
        if case:
            for i, arg in enumerate(call.args):
                is_condition = i % 2 == 0 and i != len(call.args) - 1
                if is_condition and arg.type not in (t.BOOLEAN, t.NULL):
                    return (
                        f"{ORDINALS[min(i, 9)]} argument of [{call.source}] must be [boolean], found value "
                        f"[{arg.source}] type [{arg.type.name}]"
                    )
        values = _values(call.args, case)
        expected = next((a.type for _, a in values if a.type != t.NULL), t.NULL)
        for index, arg in values:
            if arg.type == t.NULL or arg.type == expected:
                continue
            if t.is_string(arg.type) and t.is_string(expected):
                continue
            if t.is_numeric(arg.type) and t.is_numeric(expected):
                continue
            return (
                f"{ORDINALS[min(index, 9)]} argument of [{call.source}] must be [{expected.name}], found value "
                f"[{arg.source}] type [{arg.type.name}]"
            )
        return None

    return check


def _any_mv(args: list[TExpr], case: bool) -> bool:
    return any(a.mv for _, a in _values(args, case))


def _value_sql(e: Emit, call: Call, index: int, as_list: bool) -> str:
    sql = e.list_arg(call, index) if as_list else e.sql(call.args[index])
    if call.type != t.NULL and call.args[index].type != call.type:
        list_suffix = "[]" if as_list else ""
        return f"CAST({sql} AS {call.type.sql}{list_suffix})"
    return sql


def _emit_case(e: Emit, call: Call) -> str:
    as_list = call.mv
    parts = ["CASE"]
    args = call.args
    i = 0
    while i + 1 < len(args):
        parts.append(f"WHEN {e.condition(call, i)} THEN {_value_sql(e, call, i + 1, as_list)}")
        i += 2
    if i < len(args):
        parts.append(f"ELSE {_value_sql(e, call, i, as_list)}")
    parts.append("END")
    if len(args) == 1:
        return _value_sql(e, call, 0, as_list)
    return "(" + " ".join(parts) + ")"


register(
    Function(
        "case",
        (p("condition", _VALUES, "boolean"), p("value", _VALUES, "any")),
        lambda args: _common(args, True),
        _emit_case,
        variadic=True,
        mv_input=True,
        returns_mv=lambda args: _any_mv(args, True),
        check=_check_common(True),
    )
)


def _emit_coalesce(e: Emit, call: Call) -> str:
    as_list = call.mv
    values = []
    for i, arg in enumerate(call.args):
        sql = _value_sql(e, call, i, as_list)
        if arg.mv and as_list:
            sql = f"(CASE WHEN len({sql}) = 0 THEN NULL ELSE {sql} END)"
        values.append(sql)
    return f"COALESCE({', '.join(values)})"


register(
    Function(
        "coalesce",
        (p("first", _VALUES, "any"), p("rest", _VALUES, "any", optional=True)),
        lambda args: _common(args, False),
        _emit_coalesce,
        variadic=True,
        mv_input=True,
        returns_mv=lambda args: _any_mv(args, False),
        check=_check_common(False),
    )
)


def _extreme(name: str, sql: str, list_sql: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        values = []
        for arg in call.args:
            value = e.sql(arg)
            if arg.mv:
                value = f"{list_sql}({value})"
            if call.type != t.NULL and arg.type != call.type:
                value = f"CAST({value} AS {call.type.sql})"
            values.append(value)
        if len(values) == 1:
            return values[0]
        # ES|QL: null if any argument is null (DuckDB's greatest/least skip nulls).
        nulls = " OR ".join(f"{v} IS NULL" for v in values)
        return f"(CASE WHEN {nulls} THEN NULL ELSE {sql}({', '.join(values)}) END)"

    register(
        Function(
            name,
            (p("first", ANY, "any"), p("rest", ANY, "any", optional=True)),
            lambda args: _common(args, False),
            emit,
            variadic=True,
            mv_input=True,
            check=_check_common(False),
        )
    )


_extreme("greatest", "greatest", "list_max")
_extreme("least", "least", "list_min")

"""Math functions. Results outside a function's domain (sqrt(-1), log(0)) are null with a warning,
as Elasticsearch reports them, rather than NaN."""

from __future__ import annotations

from vigil.esql import types as t
from vigil.esql.functions.registry import (
    INTEGRAL,
    NUMERIC,
    Emit,
    Function,
    call_sql,
    fixed,
    p,
    register,
    same_as_first,
)
from vigil.esql.ir import Call

_NUM = p("number", NUMERIC, "numeric")
_DOUBLE = fixed(t.DOUBLE)


def _as_double(e: Emit, call: Call, index: int) -> str:
    return f"CAST({e.arg(call, index)} AS DOUBLE)"


def _unary_double(name: str, sql: str) -> None:
    register(Function(name, (_NUM,), _DOUBLE, lambda e, c: f"{sql}({_as_double(e, c, 0)})"))


for _name, _sql in (
    ("sin", "sin"),
    ("cos", "cos"),
    ("tan", "tan"),
    ("atan", "atan"),
    ("sinh", "sinh"),
    ("cosh", "cosh"),
    ("tanh", "tanh"),
    ("exp", "exp"),
):
    _unary_double(_name, _sql)


def _emit_cbrt(e: Emit, call: Call) -> str:
    value = _as_double(e, call, 0)
    # DuckDB's cbrt is off by an ulp on perfect cubes (cbrt(27) = 3.0000000000000004); Java's is exact.
    rounded = f"round(cbrt({value}))"
    return f"(CASE WHEN pow({rounded}, 3) = {value} THEN {rounded} ELSE cbrt({value}) END)"


register(Function("cbrt", (_NUM,), _DOUBLE, _emit_cbrt))


def _domain(name: str, sql: str, low: float, high: float, message: str) -> None:
    def emit(e: Emit, call: Call) -> str:
        value = _as_double(e, call, 0)
        warn = e.warn(call, message)
        return f"(CASE WHEN {value} < {low} OR {value} > {high} THEN {warn} ELSE {sql}({value}) END)"

    register(Function(name, (_NUM,), _DOUBLE, emit))


_domain("asin", "asin", -1, 1, "java.lang.ArithmeticException: Asin input out of range")
_domain("acos", "acos", -1, 1, "java.lang.ArithmeticException: Acos input out of range")


def _emit_sqrt(e: Emit, call: Call) -> str:
    value = _as_double(e, call, 0)
    warn = e.warn(call, "java.lang.ArithmeticException: Square root of negative")
    return f"(CASE WHEN {value} < 0 THEN {warn} ELSE sqrt({value}) END)"


register(Function("sqrt", (_NUM,), _DOUBLE, _emit_sqrt))


def _emit_log10(e: Emit, call: Call) -> str:
    value = _as_double(e, call, 0)
    warn = e.warn(call, "java.lang.ArithmeticException: Log of non-positive number")
    return f"(CASE WHEN {value} <= 0 THEN {warn} ELSE log10({value}) END)"


register(Function("log10", (_NUM,), _DOUBLE, _emit_log10))


def _emit_log(e: Emit, call: Call) -> str:
    if len(call.args) == 1:
        value = _as_double(e, call, 0)
        warn = e.warn(call, "java.lang.ArithmeticException: Log of non-positive number")
        return f"(CASE WHEN {value} <= 0 THEN {warn} ELSE ln({value}) END)"
    base, value = _as_double(e, call, 0), _as_double(e, call, 1)
    warn = e.warn(call, "java.lang.ArithmeticException: Log of non-positive number")
    base_warn = e.warn(call, "java.lang.ArithmeticException: Log of base 1")
    return (
        f"(CASE WHEN {value} <= 0 OR {base} <= 0 THEN {warn} WHEN {base} = 1 THEN {base_warn} "
        f"ELSE log10({value}) / log10({base}) END)"
    )


register(Function("log", (_NUM, p("number", NUMERIC, "numeric", optional=True)), _DOUBLE, _emit_log))


def _emit_abs(e: Emit, call: Call) -> str:
    value = e.arg(call, 0)
    if call.type in (t.INTEGER, t.LONG):
        from vigil.esql.functions.operators import checked

        return checked(e, call, f"abs(CAST({value} AS HUGEINT))")
    return f"abs({value})"


register(Function("abs", (_NUM,), same_as_first, _emit_abs))


def _rounding(sql: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        value = e.arg(call, 0)
        if call.type == t.DOUBLE:
            return f"{sql}({value})"
        return value

    return emit


register(Function("ceil", (_NUM,), same_as_first, _rounding("ceil")))
register(Function("floor", (_NUM,), same_as_first, _rounding("floor")))


def _emit_round(e: Emit, call: Call) -> str:
    value = e.arg(call, 0)
    digits = e.arg(call, 1) if len(call.args) == 2 else "0"
    if call.type == t.DOUBLE:
        # Elasticsearch rounds the decimal value half away from zero: 2.05 -> 2.1, -123.5 -> -124.
        scale = f"pow(10, {digits})"
        return f"(sign({value}) * floor(abs({value}) * {scale} + 0.5) / {scale})"
    # Integers: only negative precision changes them (round(1234, -2) = 1200), half away from zero.
    return f"CAST(round(CAST({value} AS DOUBLE), least({digits}, 0)) AS {call.type.sql})"


register(
    Function(
        "round",
        (_NUM, p("decimals", INTEGRAL, "whole number except unsigned_long or counter types", optional=True)),
        same_as_first,
        _emit_round,
    )
)


def _emit_pow(e: Emit, call: Call) -> str:
    base, exponent = _as_double(e, call, 0), _as_double(e, call, 1)
    warn = e.warn(call, "java.lang.ArithmeticException: invalid result when computing pow")
    result = f"pow({base}, {exponent})"
    return f"(CASE WHEN {result} IS NULL OR isfinite({result}) THEN {result} ELSE {warn} END)"


register(Function("pow", (p("base", NUMERIC, "numeric"), p("exponent", NUMERIC, "numeric")), _DOUBLE, _emit_pow))


def _emit_atan2(e: Emit, call: Call) -> str:
    return f"atan2({_as_double(e, call, 0)}, {_as_double(e, call, 1)})"


register(Function("atan2", (p("y", NUMERIC, "numeric"), p("x", NUMERIC, "numeric")), _DOUBLE, _emit_atan2))


def _emit_hypot(e: Emit, call: Call) -> str:
    return f"sqrt(pow({_as_double(e, call, 0)}, 2) + pow({_as_double(e, call, 1)}, 2))"


register(Function("hypot", (p("n1", NUMERIC, "numeric"), p("n2", NUMERIC, "numeric")), _DOUBLE, _emit_hypot))


def _emit_signum(e: Emit, call: Call) -> str:
    return f"CAST(sign({e.arg(call, 0)}) AS DOUBLE)"


register(Function("signum", (_NUM,), _DOUBLE, _emit_signum))
register(Function("pi", (), _DOUBLE, lambda e, c: "pi()"))
register(Function("e", (), _DOUBLE, lambda e, c: "exp(1.0)"))
register(Function("tau", (), _DOUBLE, lambda e, c: "(2 * pi())"))
register(Function("copy_sign", (_NUM, p("sign", NUMERIC, "numeric")), same_as_first, call_sql("copysign")))


def _emit_scalb(e: Emit, call: Call) -> str:
    return f"({_as_double(e, call, 0)} * pow(2, {e.arg(call, 1)}))"


register(Function("scalb", (p("d", NUMERIC, "numeric"), p("scaleFactor", INTEGRAL, "integer")), _DOUBLE, _emit_scalb))


def _emit_clamp(kind: str):  # type: ignore[no-untyped-def]
    def emit(e: Emit, call: Call) -> str:
        value = e.arg(call, 0)
        bounds = [e.arg(call, i) for i in range(1, len(call.args))]
        if kind == "min":
            inner = f"greatest({value}, {bounds[0]})"
        elif kind == "max":
            inner = f"least({value}, {bounds[0]})"
        else:
            inner = f"least(greatest({value}, {bounds[0]}), {bounds[1]})"
        checks = " OR ".join(f"{b} IS NULL" for b in [value, *bounds])
        return f"(CASE WHEN {checks} THEN NULL ELSE CAST({inner} AS {call.type.sql}) END)"

    return emit


_ORDERABLE = frozenset({*t.NUMERIC_TYPES, t.DATETIME, t.KEYWORD, t.TEXT, t.IP, t.VERSION, t.BOOLEAN})
register(
    Function(
        "clamp_min",
        (p("field", _ORDERABLE, "numeric"), p("min", _ORDERABLE, "numeric")),
        same_as_first,
        _emit_clamp("min"),
    )
)
register(
    Function(
        "clamp_max",
        (p("field", _ORDERABLE, "numeric"), p("max", _ORDERABLE, "numeric")),
        same_as_first,
        _emit_clamp("max"),
    )
)
register(
    Function(
        "clamp",
        (p("field", _ORDERABLE, "numeric"), p("min", _ORDERABLE, "numeric"), p("max", _ORDERABLE, "numeric")),
        same_as_first,
        _emit_clamp("both"),
    )
)

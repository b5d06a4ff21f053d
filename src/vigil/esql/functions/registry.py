"""The function registry: each ES|QL function's signature (for the verifier) and SQL emitter.

Families live in sibling modules (string, math, date, ...) and call ``register``; the verifier
checks arguments against ``params`` and asks ``result`` for the return type; the compiler calls
``emit`` with an ``Emit`` that hands out argument SQL already reduced to single values (with
Elasticsearch's multi-value warning) unless the function reads whole multi-values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vigil.esql import types as t
from vigil.esql.ir import Call, Const, TExpr
from vigil.esql.types import DataType

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


class Emit(Protocol):
    """What an emitter may ask the compiler for."""

    def arg(self, call: Call, index: int) -> str:
        """SQL of a single-valued argument (a multi-value becomes null with a warning)."""
        ...

    def list_arg(self, call: Call, index: int) -> str:
        """SQL of an argument as a LIST (a single value becomes a one-element list; null stays null)."""
        ...

    def condition(self, call: Call, index: int) -> str:
        """SQL of a boolean condition argument; a multi-value is false with a warning."""
        ...

    def sql(self, expr: TExpr) -> str:
        """SQL of any typed expression, as is."""
        ...

    def warn(self, call: Call, exception: str, sql_type: str | None = None, detail_sql: str | None = None) -> str:
        """SQL that records a warning for ``call`` when evaluated and yields a typed NULL; ``{}`` in
        ``exception`` is replaced by the value of ``detail_sql`` on the failing row."""
        ...

    def literal(self, value: Any, type_: DataType) -> str: ...

    def aggregate(self, sql_function: str, *args: str) -> str:
        """An SQL aggregate call carrying the STATS ... WHERE filter of the aggregate being emitted."""
        ...


Emitter = Callable[[Emit, Call], str]
ResultType = Callable[[list[TExpr]], DataType]


@dataclass(frozen=True)
class Param:
    name: str
    types: frozenset[DataType]
    expected: str  # how Elasticsearch names the accepted types in messages: "numeric", "string"...
    optional: bool = False
    constant: bool = False  # must be foldable ("second argument of [...] must be a constant")


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    result: ResultType
    emit: Emitter
    variadic: bool = False  # the last parameter repeats (at least once unless optional)
    aggregate: bool = False
    grouping: bool = False  # BUCKET: allowed only in STATS ... BY
    mv_input: bool = False  # reads whole multi-values (MV_* functions, aggregates)
    returns_mv: Callable[[list[TExpr]], bool] = field(default=lambda args: False)
    nondeterministic: bool = False
    # Extra verification after types are checked: returns an error message or None.
    check: Callable[[Call], str | None] | None = None
    # Rewrites a resolved call (e.g. numeric/date variants) before emission.
    null_on_null: bool = True  # a NULL literal argument makes the whole call NULL-typed


REGISTRY: dict[str, Function] = {}


def register(function: Function, *aliases: str) -> Function:
    for name in (function.name, *aliases):
        REGISTRY[name] = function
    return function


def lookup(name: str) -> Function | None:
    _load_families()
    return REGISTRY.get(name)


def names() -> list[str]:
    _load_families()
    return sorted(REGISTRY)


_loaded = False


def _load_families() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    # Imported for their register() side effects.
    from vigil.esql.functions import (  # noqa: F401
        aggregate,
        conditional,
        convert,
        date,
        ip,
        math,
        multivalue,
        operators,
        string,
    )


# --- helpers the families share ------------------------------------------------------------

ANY = frozenset(t.REPRESENTABLE)
NUMERIC = frozenset(t.NUMERIC_TYPES)
STRING = frozenset(t.STRING_TYPES)
INTEGRAL = frozenset(t.INTEGRAL_TYPES)
DATETIME = frozenset({t.DATETIME})
BOOLEAN = frozenset({t.BOOLEAN})


def p(name: str, types: frozenset[DataType], expected: str, **kwargs: Any) -> Param:
    return Param(name, types, expected, **kwargs)


def fixed(type_: DataType) -> ResultType:
    return lambda args: type_


def same_as_first(args: list[TExpr]) -> DataType:
    return args[0].type if args else t.NULL


def call_sql(sql_name: str) -> Emitter:
    """``name(arg0, arg1, ...)`` over single-valued arguments."""

    def emit(e: Emit, call: Call) -> str:
        return f"{sql_name}({', '.join(e.arg(call, i) for i in range(len(call.args)))})"

    return emit


def const_value(expr: TExpr) -> Any:
    """The value of a constant argument (the verifier guarantees constness where required)."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Call) and expr.fn.name == "neg" and isinstance(expr.args[0], Const):
        value = expr.args[0].value
        return -value if isinstance(value, int | float) else None
    return None


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

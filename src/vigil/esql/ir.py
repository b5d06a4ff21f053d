"""Typed expressions: what the verifier resolves an AST expression into and the compiler emits.

Every node knows its ES|QL type, whether its SQL value is a LIST (a multi-value), and the source
text and position Elasticsearch quotes in messages and warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vigil.esql.types import DataType

if TYPE_CHECKING:
    from vigil.esql.functions.registry import Function


@dataclass(eq=False)
class TExpr:
    type: DataType
    mv: bool  # the SQL value is a LIST (possibly holding one value); False: a plain scalar
    source: str  # the expression's text in the query
    line: int
    column: int


@dataclass(eq=False)
class ColumnRef(TExpr):
    alias: str  # SQL name of the column in the relation being read


@dataclass(eq=False)
class Const(TExpr):
    """A constant: value None, bool, int, float, str, datetime, a (amount, unit) interval or a list."""

    value: Any


@dataclass(eq=False)
class Call(TExpr):
    fn: Function
    args: list[TExpr]
    # Extra compile-time data a function needs (a parsed pattern, an aggregate filter...).
    options: dict[str, Any] = field(default_factory=dict)


def is_constant(expr: TExpr) -> bool:
    """Foldable in Elasticsearch's sense: built from constants only (no column, no aggregate)."""
    if isinstance(expr, Const):
        return True
    if isinstance(expr, Call):
        return not expr.fn.aggregate and not expr.fn.nondeterministic and all(is_constant(a) for a in expr.args)
    return False


def walk(expr: TExpr) -> list[TExpr]:
    """``expr`` and every expression under it, parents first."""
    result = [expr]
    if isinstance(expr, Call):
        for arg in expr.args:
            result.extend(walk(arg))
    return result

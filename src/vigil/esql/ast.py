"""ES|QL abstract syntax tree: immutable nodes carrying 1-based source positions.

Positions are excluded from equality so that trees parsed from differently formatted text
(for example a printed round trip) compare equal when they mean the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

LiteralKind = TypingLiteral["null", "boolean", "integer", "decimal", "string"]


@dataclass(frozen=True)
class Node:
    line: int = field(default=0, compare=False, repr=False, kw_only=True)
    column: int = field(default=0, compare=False, repr=False, kw_only=True)
    # Character offsets of the node's source text [start, end) in the query; -1 when unknown.
    # Elasticsearch quotes an expression's own text in messages ("evaluation of [a + b] failed").
    start: int = field(default=-1, compare=False, repr=False, kw_only=True)
    end: int = field(default=-1, compare=False, repr=False, kw_only=True)


# --- expressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal(Node):
    """A constant; ``value`` is None, bool, int, float or str according to ``kind``."""

    value: object
    kind: LiteralKind


@dataclass(frozen=True)
class QualifiedLiteral(Node):
    """An integer with a unit, e.g. ``1 hour`` or ``15 minutes`` (a time span or period)."""

    value: int
    unit: str


@dataclass(frozen=True)
class ListLiteral(Node):
    """A multi-value constant such as ``[1, 2, 3]``."""

    items: tuple[Literal, ...]


@dataclass(frozen=True)
class Param(Node):
    """A query parameter: ``?`` (name None), ``?name`` or ``?1`` (name "1")."""

    name: str | None = None


@dataclass(frozen=True)
class FieldRef(Node):
    """A field; ``name`` is the dotted path, backquoted parts already unquoted."""

    name: str


@dataclass(frozen=True)
class FunctionCall(Node):
    """``name`` is lowercased; ``text`` keeps the spelling used in the query for messages."""

    name: str
    args: tuple[Expr, ...] = ()
    star: bool = False  # COUNT(*)
    text: str = field(default="", compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class BinaryOp(Node):
    """Arithmetic (+ - * / %), comparison (== != < <= > >=) or logical (AND, OR)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnaryOp(Node):
    """``NOT x`` or ``-x``."""

    op: str
    operand: Expr


@dataclass(frozen=True)
class InList(Node):
    value: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull(Node):
    value: Expr
    negated: bool = False


@dataclass(frozen=True)
class Like(Node):
    """``pattern`` is the string constant; a list ``LIKE ("a*", "b*")`` or an expression pattern
    puts its expressions in ``patterns`` (``pattern`` is then "")."""

    value: Expr
    pattern: str
    negated: bool = False
    patterns: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class RLike(Node):
    """``pattern`` is the string constant; a list ``LIKE ("a*", "b*")`` or an expression pattern
    puts its expressions in ``patterns`` (``pattern`` is then "")."""

    value: Expr
    pattern: str
    negated: bool = False
    patterns: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Cast(Node):
    """Inline cast ``value::type``; ``type_name`` is lowercased."""

    value: Expr
    type_name: str


@dataclass(frozen=True)
class Match(Node):
    """The full-text match operator ``field : query``."""

    field: Expr
    query: Expr


Expr = (
    Literal
    | QualifiedLiteral
    | ListLiteral
    | Param
    | FieldRef
    | FunctionCall
    | BinaryOp
    | UnaryOp
    | InList
    | IsNull
    | Like
    | RLike
    | Cast
    | Match
)


# --- command parts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Field(Node):
    """``name = expr`` or a bare ``expr`` (name None) in ROW, EVAL and STATS ... BY."""

    name: str | None
    expr: Expr


@dataclass(frozen=True)
class AggregateField(Node):
    """One STATS aggregate, optionally filtered: ``c = COUNT(*) WHERE x > 1``."""

    name: str | None
    expr: Expr
    where: Expr | None = None


@dataclass(frozen=True)
class IndexPattern(Node):
    """A FROM / LOOKUP JOIN source such as ``logs-*`` or ``remote:logs-*``."""

    index: str
    cluster: str | None = None


@dataclass(frozen=True)
class SortKey(Node):
    """``order`` is "ASC", "DESC" or None; ``nulls`` is "FIRST", "LAST" or None (as written)."""

    expr: Expr
    order: str | None = None
    nulls: str | None = None


@dataclass(frozen=True)
class RenameClause(Node):
    old: str
    new: str


@dataclass(frozen=True)
class EnrichWith(Node):
    """``new = field`` or just ``field`` in ENRICH ... WITH."""

    name: str | None
    field: str


# --- commands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class From(Node):
    sources: tuple[IndexPattern, ...]
    metadata: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row(Node):
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Show(Node):
    item: str  # uppercased, e.g. "INFO"


@dataclass(frozen=True)
class Where(Node):
    condition: Expr


@dataclass(frozen=True)
class Eval(Node):
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Stats(Node):
    aggregates: tuple[AggregateField, ...]
    by: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Sort(Node):
    keys: tuple[SortKey, ...]


@dataclass(frozen=True)
class Limit(Node):
    count: int


@dataclass(frozen=True)
class Keep(Node):
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Drop(Node):
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Rename(Node):
    clauses: tuple[RenameClause, ...]


@dataclass(frozen=True)
class Dissect(Node):
    source: Expr
    pattern: str
    append_separator: str | None = None


@dataclass(frozen=True)
class Grok(Node):
    """``more`` holds further patterns of ``GROK f "p1", "p2"`` (the first that matches wins)."""

    source: Expr
    pattern: str
    more: tuple[str, ...] = ()


@dataclass(frozen=True)
class MvExpand(Node):
    field: str


@dataclass(frozen=True)
class LookupJoin(Node):
    """``ON a, b`` joins on same-named fields; ``ON a == x AND b == y`` names the lookup index's
    fields in ``right`` (one per ``on`` field), whose fields then all stay in the output."""

    index: IndexPattern
    on: tuple[str, ...]
    right: tuple[str, ...] = ()


@dataclass(frozen=True)
class Enrich(Node):
    policy: str
    on: str | None = None
    with_fields: tuple[EnrichWith, ...] = ()


SourceCommand = From | Row | Show
ProcessingCommand = (
    Where | Eval | Stats | Sort | Limit | Keep | Drop | Rename | Dissect | Grok | MvExpand | LookupJoin | Enrich
)


@dataclass(frozen=True)
class Query(Node):
    """A source command followed by the ``|``-piped processing commands."""

    source: SourceCommand
    commands: tuple[ProcessingCommand, ...] = ()

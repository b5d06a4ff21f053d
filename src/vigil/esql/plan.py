"""The verified query: a pipeline of relational steps over typed columns, ready to compile.

The verifier builds it from the AST; the compiler turns each step into one SQL CTE. Columns are
addressed by unique SQL aliases (``c0``, ``c1``...) so Elasticsearch's case-sensitive, dotted,
freely shadowed column names never meet DuckDB's case-insensitive identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.dataplane.catalog import IndexInfo
from vigil.esql.ir import TExpr
from vigil.esql.types import DataType


@dataclass(frozen=True)
class Column:
    name: str  # the ES|QL column name
    type: DataType
    mv: bool  # the SQL value is a LIST
    alias: str  # SQL alias in the relation
    # The defining expression when it is a constant (EVAL x = "1999-01-01"): Elasticsearch
    # propagates it, so `BUCKET(d, 5, x, NOW())` sees a constant.
    constant: TExpr | None = field(default=None, compare=False)

    def renamed(self, name: str) -> Column:
        return Column(name, self.type, self.mv, self.alias, self.constant)


@dataclass(frozen=True)
class SourceField:
    alias: str
    sql_type: str  # DuckDB type of the output column (LIST types end with [])
    # Per index: the SQL column to read, or None when that index does not map the field.
    columns: dict[str, str | None]


@dataclass
class FromStep:
    indices: list[IndexInfo]
    fields: list[SourceField]
    index_alias: str | None = None  # METADATA _index
    id_alias: str | None = None  # METADATA _id
    extra_nulls: list[tuple[str, str]] = field(default_factory=list)  # (alias, sql type) of null metadata


@dataclass
class RowStep:
    values: list[tuple[str, TExpr]]


@dataclass
class EvalStep:
    values: list[tuple[str, TExpr]]  # alias -> expression over the previous relation


@dataclass
class WhereStep:
    condition: TExpr


@dataclass
class SortKey:
    expr: TExpr
    ascending: bool
    nulls_first: bool


@dataclass
class SortStep:
    keys: list[SortKey]


@dataclass
class LimitStep:
    count: int


@dataclass
class ExpandStep:
    """MV_EXPAND: one row per value of a multi-valued column."""

    source_alias: str
    alias: str


@dataclass
class AggregateStep:
    groups: list[tuple[str, TExpr]]  # computed before grouping; multi-valued keys are expanded
    aggregates: list[tuple[str, TExpr]]  # may nest aggregate calls inside scalar expressions
    expand: list[str] = field(default_factory=list)  # aliases of multi-valued group keys


@dataclass
class ExtractStep:
    """DISSECT / GROK: a regular expression with named captures over one string expression."""

    source: TExpr
    regex: str
    captures: list[str]  # names of the regex groups, in order
    outputs: list[tuple[str, list[str], DataType]]  # (alias, captures making it, type)
    separator: str = ""  # joins the captures of one output (DISSECT's append separator)
    grok: bool = False  # GROK: empty groups are null; several captures are alternatives...
    lists: frozenset[str] = frozenset()  # ...except these aliases, whose captures form a multi-value
    # DISSECT: capture -> a regex with that capture only, valid once `regex` matched (patterns/dissect.py).
    prefixes: dict[str, str] = field(default_factory=dict)
    match_regex: str = ""  # DISSECT with prefixes: the cheaper test for a match (patterns/dissect.py)


@dataclass(frozen=True)
class JoinKey:
    left: str  # alias of the left column
    left_mv: bool  # the left column is a LIST
    sql_type: str  # DuckDB type of one left value
    right: str  # quoted SQL column of the lookup index
    right_mv: bool  # the lookup index stores the field as a LIST


@dataclass
class JoinStep:
    """LOOKUP JOIN: left join a lookup index on equal keys. A multi-valued key on either side
    matches nothing and is reported, as Elasticsearch reports it, against the command."""

    index: IndexInfo
    keys: list[JoinKey]
    outputs: list[tuple[str, str]]  # (alias, right SQL column)
    line: int = 0
    column: int = 0
    source: str = ""  # the command's text, quoted in warnings


Step = (
    FromStep
    | RowStep
    | EvalStep
    | WhereStep
    | SortStep
    | LimitStep
    | ExpandStep
    | AggregateStep
    | ExtractStep
    | JoinStep
)


@dataclass
class Plan:
    steps: list[Step]
    columns: list[Column]  # the output, in order
    limit: int  # rows returned at most (default or LIMIT, capped at the maximum)
    warnings: list[str] = field(default_factory=list)  # verification-time warnings


def step_expressions(step: Step) -> list[TExpr]:
    """The expressions a step evaluates itself (column values, conditions, sort and group keys,
    aggregates, the text an extraction reads); columns a step only passes on are not included."""
    if isinstance(step, RowStep | EvalStep):
        return [expr for _, expr in step.values]
    if isinstance(step, WhereStep):
        return [step.condition]
    if isinstance(step, SortStep):
        return [key.expr for key in step.keys]
    if isinstance(step, AggregateStep):
        return [expr for _, expr in step.groups + step.aggregates]
    if isinstance(step, ExtractStep):
        return [step.source]
    return []

"""The compiler: a verified Plan becomes one DuckDB SQL statement, one CTE per step.

Each CTE forwards every column of the previous one (``SELECT *, new AS cN``) so a SORT can be
carried past later commands and applied at the end; DuckDB prunes the columns nothing reads and
pushes WHERE filters down into the index scan. Warnings Elasticsearch would attach to a row
(multi-value given to a single-value function, overflow, division by zero) go through the
``esql_warn`` SQL function, evaluated only on the failing rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vigil.esql import types as t
from vigil.esql.functions.registry import sql_string
from vigil.esql.ir import Call, ColumnRef, Const, TExpr
from vigil.esql.plan import (
    AggregateStep,
    Column,
    EvalStep,
    ExpandStep,
    ExtractStep,
    FromStep,
    JoinStep,
    LimitStep,
    Plan,
    RowStep,
    SortKey,
    SortStep,
    WhereStep,
    step_expressions,
)
from vigil.esql.types import DataType

ExtractOutput = tuple[str, list[str], DataType]  # ExtractStep.outputs: (alias, captures, type)
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
WARN_FUNCTION = "esql_warn"
SINGLE_VALUE = "java.lang.IllegalArgumentException: single-value function encountered multi-value"
MULTI_VALUE_JOIN = "java.lang.IllegalArgumentException: LOOKUP JOIN encountered multi-value"
OUTPUT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%gZ"


@dataclass(frozen=True)
class Warning:
    """One failing expression: Elasticsearch reports its text and the exception once."""

    line: int
    column: int
    source: str
    exception: str  # may contain "{}" for the failing value
    outcome: str = "null"  # "false" for a CASE condition


@dataclass
class Compiled:
    sql: str
    columns: list[Column]
    warnings: list[Warning] = field(default_factory=list)  # indexed by the esql_warn() id


def compile_plan(plan: Plan) -> Compiled:
    return _Compiler(plan).run()


def compile_constant(expr: TExpr) -> str:
    """SQL computing a constant expression on its own (its ``esql_warn`` calls take two arguments)."""
    return _Compiler(Plan([], [], 0)).sql(expr)


class _Compiler:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.used = _used_aliases(plan)
        self.warnings: list[Warning] = []
        self.ctes: list[str] = []
        self.filter_sql: str | None = None  # STATS ... WHERE of the aggregate being emitted
        self.order: list[SortKey] = []

    # --- Emit protocol --------------------------------------------------------------------

    def sql(self, expr: TExpr) -> str:
        if isinstance(expr, ColumnRef):
            return expr.alias
        if isinstance(expr, Const):
            if expr.mv and isinstance(expr.value, list):
                items = ", ".join(self.literal(v, expr.type) for v in expr.value)
                return f"[{items}]"
            return self.literal(expr.value, expr.type)
        assert isinstance(expr, Call)
        if expr.fn.aggregate:
            outer = self.filter_sql
            condition = expr.options.get("filter")
            self.filter_sql = self.sql(condition) if condition is not None else None
            try:
                return expr.fn.emit(self, expr)
            finally:
                self.filter_sql = outer
        return expr.fn.emit(self, expr)

    def arg(self, call: Call, index: int) -> str:
        arg = call.args[index]
        value = self.sql(arg)
        return self.single(call, value, arg.type) if arg.mv else value

    def condition(self, call: Call, index: int) -> str:
        """A boolean argument deciding a branch: a multi-value counts as false (with a warning)."""
        arg = call.args[index]
        value = self.sql(arg)
        if not arg.mv:
            return value
        warn = self.warn(call, SINGLE_VALUE, "BOOLEAN", outcome="false")
        return f"(CASE WHEN len({value}) = 1 THEN ({value})[1] WHEN len({value}) > 1 THEN {warn} END)"

    def single(self, call: Call, value: str, type_: DataType) -> str:
        warn = self.warn(call, SINGLE_VALUE, type_.sql)
        return f"(CASE WHEN len({value}) = 1 THEN ({value})[1] WHEN len({value}) > 1 THEN {warn} END)"

    def list_arg(self, call: Call, index: int) -> str:
        arg = call.args[index]
        value = self.sql(arg)
        if arg.mv:
            return value
        if arg.type == t.NULL:
            return "NULL"
        return f"(CASE WHEN {value} IS NULL THEN NULL ELSE [{value}] END)"

    def warn(
        self,
        call: Call,
        exception: str,
        sql_type: str | None = None,
        detail_sql: str | None = None,
        outcome: str = "null",
    ) -> str:
        warning = Warning(call.line, call.column, call.source, exception, outcome)
        return self.warn_sql(warning, sql_type or call.type.sql, detail_sql)

    def warn_sql(self, warning: Warning, sql_type: str, detail_sql: str | None = None) -> str:
        """SQL recording `warning` for the row at hand, typed `sql_type` (always null)."""
        try:
            number = self.warnings.index(warning)
        except ValueError:
            number = len(self.warnings)
            self.warnings.append(warning)
        detail = f"CAST({detail_sql} AS VARCHAR)" if detail_sql else "NULL"
        return f"CAST({WARN_FUNCTION}({number}, {detail}) AS {sql_type})"

    def literal(self, value: Any, type_: DataType) -> str:
        if value is None:
            return "NULL" if type_ == t.NULL else f"CAST(NULL AS {type_.sql})"
        if type_ == t.BOOLEAN:
            return "true" if value else "false"
        if type_ in (t.INTEGER, t.LONG, t.UNSIGNED_LONG):
            return f"CAST({int(value)} AS {type_.sql})"
        if type_ == t.DOUBLE:
            return f"CAST({float(value)!r} AS DOUBLE)"
        if type_ == t.DATETIME:
            assert isinstance(value, datetime)
            return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
        if type_ in t.TEMPORAL_AMOUNTS:
            from vigil.esql.constants import parse_temporal_amount
            from vigil.esql.functions.date import interval_sql

            if isinstance(value, str):
                value = parse_temporal_amount(value, type_)
            amount, unit = value
            return interval_sql(amount, unit)
        return sql_string(str(value))

    def aggregate(self, sql_function: str, *args: str) -> str:
        call = f"{sql_function}({', '.join(args)})"
        if self.filter_sql is not None:
            return f"{call} FILTER (WHERE {self.filter_sql})"
        return call

    # --- steps -----------------------------------------------------------------------------

    def add(self, body: str) -> str:
        name = f"s{len(self.ctes)}"
        self.ctes.append(f"{name} AS ({body})")
        return name

    def run(self) -> Compiled:
        previous = ""
        for step in self.plan.steps:
            previous = self.step(step, previous)
        outputs = [f"{self.output(c)} AS o{i}" for i, c in enumerate(self.plan.columns)]
        select = ", ".join(outputs) if outputs else "NULL AS __none"
        order = self.order_by()
        sql = f"WITH {', '.join(self.ctes)} SELECT {select} FROM {previous}{order} LIMIT {self.plan.limit}"
        return Compiled(sql, self.plan.columns, self.warnings)

    def output(self, column: Column) -> str:
        value = column.alias
        if column.type == t.DATETIME:
            if column.mv:
                return f"list_transform({value}, lambda x: strftime(x, '{OUTPUT_DATE_FORMAT}'))"
            return f"strftime({value}, '{OUTPUT_DATE_FORMAT}')"
        if column.type == t.UNSUPPORTED:
            return "NULL"
        return value

    def order_by(self) -> str:
        if not self.order:
            return ""
        keys = []
        for key in self.order:
            value = self.sql(key.expr)
            if key.expr.mv:
                value = f"{'list_min' if key.ascending else 'list_max'}({value})"
            if key.expr.type == t.IP:
                from vigil.esql.functions.operators import _ip_key

                value = _ip_key(value)
            elif key.expr.type == t.VERSION:
                from vigil.esql.functions.operators import _version_key

                value = _version_key(value)
            direction = "ASC" if key.ascending else "DESC"
            nulls = "NULLS FIRST" if key.nulls_first else "NULLS LAST"
            keys.append(f"{value} {direction} {nulls}")
        return " ORDER BY " + ", ".join(keys)

    def step(self, step: object, previous: str) -> str:
        if isinstance(step, FromStep):
            return self.from_step(step)
        if isinstance(step, RowStep):
            values = ", ".join(f"{self.sql(expr)} AS {alias}" for alias, expr in step.values)
            return self.add(f"SELECT {values or 'NULL AS __none'}")
        if isinstance(step, EvalStep):
            values = ", ".join(f"{self.sql(expr)} AS {alias}" for alias, expr in step.values)
            return self.add(f"SELECT *, {values} FROM {previous}")
        if isinstance(step, WhereStep):
            return self.add(f"SELECT * FROM {previous} WHERE {self.sql(step.condition)}")
        if isinstance(step, SortStep):
            # Sorting is applied where rows are cut (LIMIT) or at the end; the latest SORT wins.
            self.order = list(step.keys)
            return previous
        if isinstance(step, LimitStep):
            return self.add(f"SELECT * FROM {previous}{self.order_by()} LIMIT {step.count}")
        if isinstance(step, ExpandStep):
            values = f"(CASE WHEN len({step.source_alias}) > 0 THEN {step.source_alias} ELSE [NULL] END)"
            return self.add(f"SELECT *, unnest({values}) AS {step.alias} FROM {previous}")
        if isinstance(step, AggregateStep):
            return self.aggregate_step(step, previous)
        if isinstance(step, ExtractStep):
            return self.extract_step(step, previous)
        if isinstance(step, JoinStep):
            return self.join_step(step, previous)
        raise TypeError(f"unknown step {step!r}")

    def from_step(self, step: FromStep) -> str:
        branches = []
        # Only the fields some step or the result reads: a smaller statement for DuckDB to plan
        # (a FROM over daily partitions is one UNION ALL branch per partition).
        fields = [source for source in step.fields if source.alias in self.used]
        for info in step.indices:
            columns = []
            for source in fields:
                column = source.columns.get(info.name)
                columns.append(f"{column if column else 'NULL'}::{source.sql_type} AS {source.alias}")
            if step.index_alias:
                columns.append(f"{sql_string(info.name)} AS {step.index_alias}")
            if step.id_alias:
                columns.append(f'"_id" AS {step.id_alias}')
            for alias, sql_type in step.extra_nulls:
                columns.append(f"CAST(NULL AS {sql_type}) AS {alias}")
            select = ", ".join(columns) if columns else "NULL AS __none"
            branches.append(f"SELECT {select} FROM {info.relation}")
        return self.add(" UNION ALL ".join(branches))

    def aggregate_step(self, step: AggregateStep, previous: str) -> str:
        self.order = []
        source = previous
        if step.groups:
            values = ", ".join(f"{self.sql(expr)} AS {alias}" for alias, expr in step.groups)
            source = self.add(f"SELECT *, {values} FROM {source}")
            for alias in step.expand:
                expanded = f"(CASE WHEN len({alias}) > 0 THEN {alias} ELSE [NULL] END)"
                source = self.add(f"SELECT * EXCLUDE ({alias}), unnest({expanded}) AS {alias} FROM {source}")
        aggregates = [f"{self.sql(expr)} AS {alias}" for alias, expr in step.aggregates]
        keys = [alias for alias, _ in step.groups]
        select = ", ".join(aggregates + keys) or "NULL AS __none"
        group_by = f" GROUP BY {', '.join(keys)}" if keys else ""
        return self.add(f"SELECT {select} FROM {source}{group_by}")

    def extract_step(self, step: ExtractStep, previous: str) -> str:
        # Only the outputs a later step or the result reads are extracted: an unread key costs a
        # regex group (or, for DISSECT, a regex) per row for nothing.
        outputs = [output for output in step.outputs if output[0] in self.used]
        if not outputs:
            return previous
        value = self.sql(step.source)
        if step.source.mv:
            return self.add(f"SELECT *, {self.extract_values(step, outputs, value)} FROM {previous}")
        if step.grok:
            return self.extract_grok(step, outputs, value, previous)
        return self.extract_dissect(step, outputs, value, previous)

    def extract_values(self, step: ExtractStep, outputs: list[ExtractOutput], value: str) -> str:
        """A multi-valued input: every value is parsed and the results form a multi-value."""
        regex = sql_string(step.regex)
        names = "[" + ", ".join(sql_string(c) for c in _regex_groups(step)) + "]"
        match = f"regexp_extract(x, {regex}, {names})"
        columns = []
        for alias, captures, type_ in outputs:
            joined = self.joined(step, alias, captures, type_, lambda c: f"{match}.{_quote_name(c)}")
            per_value = f"(CASE WHEN regexp_matches(x, {regex}) THEN {joined} END)"
            if alias in step.lists:
                values = f"flatten(list_transform({value}, lambda x: COALESCE({per_value}, [])))"
            else:
                values = f"list_filter(list_transform({value}, lambda x: {per_value}), lambda v: v IS NOT NULL)"
            columns.append(f"(CASE WHEN len({values}) = 0 THEN NULL ELSE {values} END) AS {alias}")
        return ", ".join(columns)

    def joined(
        self, step: ExtractStep, alias: str, captures: list[str], type_: DataType, group: Callable[[str], str]
    ) -> str:
        """One output from the text of its captures: GROK's empty groups are null and typed, several
        captures are alternatives (or a multi-value); DISSECT's appended keys join with the separator."""
        parts = [group(c) for c in captures]
        if step.grok:
            parts = [f"NULLIF({p}, '')" for p in parts]
            if type_ != t.KEYWORD:
                parts = [f"TRY_CAST({p} AS {type_.sql})" for p in parts]
            if alias in step.lists:
                return f"list_filter([{', '.join(parts)}], lambda v: v IS NOT NULL)"
            return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"
        if len(parts) == 1:
            return parts[0]
        return f"concat_ws({sql_string(step.separator)}, {', '.join(parts)})"

    def extract_grok(self, step: ExtractStep, outputs: list[ExtractOutput], value: str, previous: str) -> str:
        """One regexp_extract per row with only the needed groups. No separate match test: a text
        that does not match gives empty groups, and GROK answers an empty group with null."""
        needed = {c for _, captures, _ in outputs for c in captures}
        regex = step.regex
        for capture in step.captures:
            if capture not in needed:
                regex = regex.replace(f"(?P<{capture}>", "(?:", 1)
        groups = _regex_groups(step, regex)
        if len(groups) == 1:
            extract = f"regexp_extract({value}, {sql_string(regex)}, 1)"

            def group(capture: str) -> str:
                return extract

        else:
            match_column = f"m{len(self.ctes)}"
            names = "[" + ", ".join(sql_string(c) for c in groups) + "]"
            extract = f"regexp_extract({value}, {sql_string(regex)}, {names})"
            previous = self.add(f"SELECT *, {extract} AS {match_column} FROM {previous}")

            def group(capture: str) -> str:
                return f"{match_column}.{_quote_name(capture)}"

        columns = []
        for alias, captures, type_ in outputs:
            text = self.joined(step, alias, captures, type_, group)
            if alias in step.lists:
                text = f"(CASE WHEN len({text}) = 0 THEN NULL ELSE {text} END)"
            columns.append(f"{text} AS {alias}")
        exclude = f" EXCLUDE ({match_column})" if len(groups) > 1 else ""
        return self.add(f"SELECT *{exclude}, {', '.join(columns)} FROM {previous}")

    def extract_dissect(self, step: ExtractStep, outputs: list[ExtractOutput], value: str, previous: str) -> str:
        """Null unless the whole pattern matches; each key from its own prefix regex when the
        pattern has them (patterns/dissect.py), else from one struct of every group."""
        regex = sql_string(step.regex)
        if step.prefixes:
            # A match test without groups is one DFA pass; each prefix regex stops at its key's delimiter.
            matched = f"regexp_matches({value}, {sql_string(step.match_regex)})"
            match_column = None
            if len(outputs) > 1:
                match_column = f"m{len(self.ctes)}"
                previous = self.add(f"SELECT *, {matched} AS {match_column} FROM {previous}")
                matched = match_column

            def group(capture: str) -> str:
                return f"regexp_extract({value}, {sql_string(step.prefixes[capture])}, 1)"

        else:
            match_column = f"m{len(self.ctes)}"
            names = "[" + ", ".join(sql_string(c) for c in step.captures) + "]"
            groups = f"(CASE WHEN regexp_matches({value}, {regex}) THEN regexp_extract({value}, {regex}, {names}) END)"
            previous = self.add(f"SELECT *, {groups} AS {match_column} FROM {previous}")
            matched = f"{match_column} IS NOT NULL"

            def group(capture: str) -> str:
                return f"{match_column}.{_quote_name(capture)}"

        columns = [
            f"(CASE WHEN {matched} THEN {self.joined(step, alias, captures, type_, group)} END) AS {alias}"
            for alias, captures, type_ in outputs
        ]
        exclude = f" EXCLUDE ({match_column})" if match_column else ""
        return self.add(f"SELECT *{exclude}, {', '.join(columns)} FROM {previous}")

    def join_step(self, step: JoinStep, previous: str) -> str:
        right = step.index.relation
        warning = Warning(step.line, step.column, step.source, MULTI_VALUE_JOIN)
        keys = []
        for number, key in enumerate(step.keys):
            value = key.left
            if key.left_mv:  # several values on the left: no match
                warn = self.warn_sql(warning, key.sql_type)
                value = f"(CASE WHEN len({value}) = 1 THEN {value}[1] WHEN len({value}) > 1 THEN {warn} END)"
            if key.right_mv:  # a value held by a multi-valued key of the lookup index is reported
                warn = self.warn_sql(warning, key.sql_type)
                held = f"(SELECT DISTINCT unnest({key.right}) FROM {right} WHERE len({key.right}) > 1)"
                value = f"(CASE WHEN {value} IN {held} THEN COALESCE({warn}, {value}) ELSE {value} END)"
            right_value = f"r.{key.right}"
            if key.right_mv:  # only documents with one value for the key match
                right_value = f"(CASE WHEN len({right_value}) = 1 THEN {right_value}[1] END)"
            keys.append((f"j{len(self.ctes)}_{number}", value, right_value))
        previous = self.add(f"SELECT *, {', '.join(f'{value} AS {alias}' for alias, value, _ in keys)} FROM {previous}")
        conditions = " AND ".join(f"l.{alias} = {right_value}" for alias, _, right_value in keys)
        outputs = ", ".join(f"r.{column} AS {alias}" for alias, column in step.outputs)
        select = f"l.* EXCLUDE ({', '.join(alias for alias, _, _ in keys)})" + (f", {outputs}" if outputs else "")
        return self.add(f"SELECT {select} FROM {previous} AS l LEFT JOIN {right} AS r ON {conditions}")


def _regex_groups(step: ExtractStep, regex: str | None = None) -> list[str]:
    """The capture names in the order of their groups in `regex` (default the step's), which is
    how `regexp_extract` with a list of names maps them: GROK's named groups by position (a field
    nested in another field's pattern opens after it), DISSECT's plain groups in capture order."""
    if not step.grok:
        return list(step.captures)
    return [name for name in _NAMED_GROUP.findall(regex or step.regex) if name in step.captures]


def _used_aliases(plan: Plan) -> set[str]:
    """Every column alias some step or the result reads."""
    expressions: list[TExpr] = []
    used = {column.alias for column in plan.columns}
    for step in plan.steps:
        expressions.extend(step_expressions(step))
        if isinstance(step, AggregateStep):
            used.update(step.expand)
        elif isinstance(step, ExpandStep):
            used.add(step.source_alias)
        elif isinstance(step, JoinStep):
            used.update(key.left for key in step.keys)
    while expressions:
        expr = expressions.pop()
        if isinstance(expr, ColumnRef):
            used.add(expr.alias)
        elif isinstance(expr, Call):
            expressions.extend(expr.args)
            expressions.extend(v for v in expr.options.values() if isinstance(v, TExpr))
    return used


def _quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

"""The verifier: resolves a parsed query against the catalog into a typed, executable Plan.

It resolves index patterns and columns, types every expression through the function registry,
applies Elasticsearch's implicit string casts, and collects every problem it finds so the error
reads like Elasticsearch's ``verification_exception``::

    Found 2 problems
    line 1:23: Unknown column [foo]
    line 1:40: second argument of [a + c] must be [date_nanos, datetime or numeric], found value [c] type [keyword]
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from vigil.dataplane.catalog import Catalog, IndexInfo
from vigil.dataplane.errors import IndexNotFoundError
from vigil.dataplane.types import SUPPORTED_TYPES, duckdb_type
from vigil.esql import ast, constants
from vigil.esql import types as t
from vigil.esql.errors import EsqlVerificationError
from vigil.esql.functions import operators
from vigil.esql.functions.registry import ORDINALS, Function, Param, lookup
from vigil.esql.ir import Call, ColumnRef, Const, TExpr, is_constant, walk
from vigil.esql.patterns import dissect, grok
from vigil.esql.plan import (
    AggregateStep,
    Column,
    EvalStep,
    ExpandStep,
    ExtractStep,
    FromStep,
    JoinKey,
    JoinStep,
    LimitStep,
    Plan,
    RowStep,
    SortKey,
    SortStep,
    SourceField,
    Step,
    WhereStep,
)
from vigil.esql.printer import command as print_command
from vigil.esql.printer import expression as print_expression
from vigil.esql.types import DataType

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
_METADATA = ("_index", "_id", "_version", "_score", "_ignored", "_source", "_index_mode")


class _Unresolved(Exception):
    """An expression could not be typed; the problem is already recorded."""


def verify(
    text: str,
    query: ast.Query,
    catalog: Catalog,
    params: list[Any] | dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Plan:
    return _Verifier(text, catalog, params, now).run(query)


class _Verifier:
    def __init__(
        self,
        text: str,
        catalog: Catalog,
        params: list[Any] | dict[str, Any] | None,
        now: datetime | None,
    ) -> None:
        self.text = text
        self.catalog = catalog
        self.params = params
        self.anonymous_param = 0
        self.now = now or datetime.now(UTC).replace(tzinfo=None)
        self.problems: list[str] = []
        self.schema: list[Column] = []
        self.steps: list[Step] = []
        self.counter = 0
        # Set while resolving STATS aggregates: how a column outside an aggregate resolves.
        self.outer_agg: Callable[[ast.FieldRef], TExpr] | None = None
        self.inside_agg: ast.FunctionCall | None = None
        self.allow_grouping = False
        self.group_scope: list[Column] = []
        self.warnings: list[str] = []

    # --- bookkeeping ---------------------------------------------------------------------

    def alias(self) -> str:
        self.counter += 1
        return f"c{self.counter}"

    def problem(self, node: ast.Node | TExpr, message: str) -> None:
        self.problems.append(f"line {node.line}:{node.column}: {message}")

    def fail(self, node: ast.Node | TExpr, message: str) -> _Unresolved:
        self.problem(node, message)
        return _Unresolved()

    def source(self, node: ast.Node) -> str:
        if node.start >= 0 and node.end >= node.start:
            return self.text[node.start : node.end]
        if isinstance(node, ast.Field | ast.AggregateField):
            return self.source(node.expr)
        return print_expression(node)  # type: ignore[arg-type]

    def find(self, name: str) -> Column | None:
        for column in reversed(self.schema):
            if column.name == name:
                return column
        return None

    def add_column(self, column: Column) -> None:
        """Append a column; an existing one of the same name is shadowed (removed)."""
        self.schema = [c for c in self.schema if c.name != column.name] + [column]

    def unresolved(self, name: str) -> None:
        """Keep the name of a column whose expression failed, so its uses add no more problems."""
        self.add_column(Column(name, t.UNRESOLVED, False, self.alias()))

    def unknown_column(self, node: ast.Node, name: str) -> _Unresolved:
        return self.fail(node, f"Unknown column [{name}]{self.suggest(name, [c.name for c in self.schema])}")

    @staticmethod
    def suggest(name: str, candidates: list[str]) -> str:
        if "*" in name:
            regex = re.compile(re.escape(name).replace(r"\*", ".*"))
            similar = sorted(c for c in candidates if regex.fullmatch(c))
        else:
            # Elasticsearch's StringUtils.findSimilar: Levenshtein similarity of at least 0.7.
            scored = sorted(((_similarity(name, c), c) for c in set(candidates)), key=lambda x: (-x[0], x[1]))
            similar = sorted(c for score, c in scored if score >= 0.7)
        if not similar:
            return ""
        if len(similar) == 1:
            return f", did you mean [{similar[0]}]?"
        return f", did you mean any of [{', '.join(similar)}]?"

    def pattern_node(self, command: ast.Node, pattern: str) -> ast.Node:
        """A positioned node for a KEEP/DROP/RENAME pattern (the AST keeps only their text)."""
        start = max(command.start, 0)
        offset = -1
        for candidate in (pattern, f"`{pattern}`"):
            found = self.text.find(candidate, start)
            if found >= 0 and (offset < 0 or found < offset):
                offset = found
        if offset < 0:
            return command
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return ast.FieldRef(pattern, line=line, column=column)

    # --- pipeline --------------------------------------------------------------------------

    def run(self, query: ast.Query) -> Plan:
        handlers: dict[type, Callable[[Any], None]] = {
            ast.From: self.from_,
            ast.Row: self.row,
            ast.Show: self.show,
            ast.Where: self.where,
            ast.Eval: self.eval,
            ast.Stats: self.stats,
            ast.Sort: self.sort,
            ast.Limit: self.limit,
            ast.Keep: self.keep,
            ast.Drop: self.drop,
            ast.Rename: self.rename,
            ast.Dissect: self.dissect,
            ast.Grok: self.grok,
            ast.MvExpand: self.mv_expand,
            ast.LookupJoin: self.lookup_join,
            ast.Enrich: self.enrich,
        }
        limit = DEFAULT_LIMIT
        for command in (query.source, *query.commands):
            handlers[type(command)](command)
            if self.problems and isinstance(command, ast.From | ast.Row) and not self.schema:
                break
        if query.commands and isinstance(query.commands[-1], ast.Limit):
            limit = min(query.commands[-1].count, MAX_LIMIT)
        sort = _sort_before_lookup_join(query.commands)
        if sort is not None:
            self.warnings.append(
                f"Line {sort.line}:{sort.column}: SORT is followed by a LOOKUP JOIN which does not preserve order; "
                "add another SORT after the LOOKUP JOIN if order is required"
            )
        if self.problems:
            count = len(self.problems)
            noun = "problem" if count == 1 else "problems"
            raise EsqlVerificationError(f"Found {count} {noun}\n" + "\n".join(self.problems))
        return Plan(self.steps, list(self.schema), limit, self.warnings)

    # --- source commands ---------------------------------------------------------------------

    def from_(self, command: ast.From) -> None:
        indices: dict[str, IndexInfo] = {}
        for pattern in command.sources:
            if pattern.cluster is not None:
                self.problem(pattern, f"Unknown index [{pattern.cluster}:{pattern.index}]")
                continue
            try:
                for info in self.catalog.resolve(pattern.index):
                    indices.setdefault(info.name, info)
            except IndexNotFoundError:
                self.problem(pattern, f"Unknown index [{pattern.index}]")
                return
        if not indices:
            if not self.problems:
                names = ",".join(p.index for p in command.sources)
                self.problem(command.sources[0], f"Unknown index [{names}]")
            return
        infos = sorted(indices.values(), key=lambda i: i.name)
        step = FromStep(infos, [])
        field_names = sorted({name for info in infos for name in info.fields})
        for name in field_names:
            mapped = {info.name: info.fields.get(name) for info in infos}
            present = [f for f in mapped.values() if f is not None]
            es_types = {t.from_mapping(f.es_type) for f in present}
            mv = any(f.multi_valued for f in present)
            alias = self.alias()
            if len(es_types) == 1:
                type_ = es_types.pop()
                raw = present[0].es_type if type_ != t.UNSUPPORTED else None
            else:
                type_, raw = t.UNSUPPORTED, None
            if type_ == t.UNSUPPORTED or raw is None:
                step.extra_nulls.append((alias, "VARCHAR"))
                self.schema.append(Column(name, t.UNSUPPORTED, False, alias))
                continue
            sql_type = duckdb_type(raw, mv) if raw in SUPPORTED_TYPES else type_.sql + ("[]" if mv else "")
            columns: dict[str, str | None] = {}
            for index, f in mapped.items():
                if f is None:
                    columns[index] = None
                elif mv and not f.multi_valued:
                    # A field that is a list in one index and a scalar in another is read as a list.
                    columns[index] = f"[{_quote(f.column)}]"
                else:
                    columns[index] = _quote(f.column)
                column_sql = columns[index]
                if f is not None and column_sql is not None and f.es_type in _NARROW_FLOATS:
                    columns[index] = _narrow_float(column_sql, f.es_type, mv)
            step.fields.append(SourceField(alias, sql_type, columns))
            self.schema.append(Column(name, type_, mv, alias))
        for name in command.metadata:
            if name not in _METADATA:
                self.problem(command, f"unsupported metadata field [{name}]")
                continue
            alias = self.alias()
            if name == "_index":
                step.index_alias = alias
                self.add_column(Column(name, t.KEYWORD, False, alias))
            elif name == "_id":
                step.id_alias = alias
                self.add_column(Column(name, t.KEYWORD, False, alias))
            else:
                type_ = {"_version": t.LONG, "_score": t.DOUBLE}.get(name, t.KEYWORD)
                step.extra_nulls.append((alias, type_.sql))
                self.add_column(Column(name, type_, False, alias))
        self.steps.append(step)

    def row(self, command: ast.Row) -> None:
        values: list[tuple[str, TExpr]] = []
        for field in command.fields:
            try:
                expr = self.expr(field.expr)
            except _Unresolved:
                self.unresolved(field.name or self.source(field.expr))
                continue
            alias = self.alias()
            values.append((alias, expr))
            name = field.name or self.source(field.expr)
            # ROW keeps repeated names (`ROW a = 1, null, null`); the last one resolves.
            self.schema.append(Column(name, expr.type, expr.mv, alias))
        self.steps.append(RowStep(values))

    def show(self, command: ast.Show) -> None:
        from vigil import __version__

        values: list[tuple[str, TExpr]] = []
        for name, value in (("version", __version__), ("date", "vigil"), ("name", "vigil")):
            alias = self.alias()
            values.append((alias, Const(t.KEYWORD, False, value, command.line, command.column, value)))
            self.schema.append(Column(name, t.KEYWORD, False, alias))
        self.steps.append(RowStep(values))

    # --- processing commands -------------------------------------------------------------

    def where(self, command: ast.Where) -> None:
        try:
            condition = self.expr(command.condition)
        except _Unresolved:
            return
        if condition.type not in (t.BOOLEAN, t.NULL):
            self.problem(
                command.condition, f"Condition expression needs to be boolean, found [{condition.type.name.upper()}]"
            )
            return
        self.steps.append(WhereStep(condition))

    def eval(self, command: ast.Eval) -> None:
        for field in command.fields:
            try:
                expr = self.expr(field.expr)
            except _Unresolved:
                self.unresolved(field.name or self.source(field.expr))
                continue
            if expr.type in t.TEMPORAL_AMOUNTS:
                self.problem(
                    field.expr,
                    f"EVAL does not support type [{expr.type.name}] as the return data type of expression "
                    f"[{expr.source}]",
                )
                continue
            alias = self.alias()
            self.steps.append(EvalStep([(alias, expr)]))
            constant = expr if is_constant(expr) else None
            self.add_column(Column(field.name or self.source(field.expr), expr.type, expr.mv, alias, constant))

    def sort(self, command: ast.Sort) -> None:
        keys: list[SortKey] = []
        for key in command.keys:
            try:
                expr = self.expr(key.expr)
            except _Unresolved:
                continue
            ascending = key.order != "DESC"
            nulls_first = key.nulls == "FIRST" if key.nulls else not ascending
            keys.append(SortKey(expr, ascending, nulls_first))
        self.steps.append(SortStep(keys))

    def limit(self, command: ast.Limit) -> None:
        self.steps.append(LimitStep(min(command.count, MAX_LIMIT)))

    def match_patterns(self, pattern: str) -> list[Column]:
        if "*" not in pattern:
            column = self.find(pattern)
            return [column] if column else []
        regex = re.compile(re.escape(pattern).replace(r"\*", ".*"))
        return [c for c in self.schema if regex.fullmatch(c.name)]

    def keep(self, command: ast.Keep) -> None:
        # A column goes where its most specific pattern puts it (exact name > partial wildcard >
        # `*`); among equally specific patterns the last one wins.
        chosen: dict[str, tuple[int, int]] = {}  # name -> (priority, position)
        for position, pattern in enumerate(command.patterns):
            matches = self.match_patterns(pattern)
            if not matches:
                self.problem_for_pattern(command, pattern)
                continue
            priority = 0 if "*" not in pattern else (2 if pattern == "*" else 1)
            for column in matches:
                current = chosen.get(column.name)
                if current is None or priority <= current[0]:
                    chosen[column.name] = (priority, position)
        by_name = {c.name: c for c in self.schema}
        order = {c.name: i for i, c in enumerate(self.schema)}
        ordered = sorted(chosen, key=lambda n: (chosen[n][1], order[n]))
        self.schema = [by_name[n] for n in ordered]

    def problem_for_pattern(self, command: ast.Node, pattern: str) -> None:
        node = self.pattern_node(command, pattern)
        if "*" in pattern:
            self.problem(node, f"No matches found for pattern [{pattern}]")
        else:
            self.problem(node, f"Unknown column [{pattern}]{self.suggest(pattern, [c.name for c in self.schema])}")

    def drop(self, command: ast.Drop) -> None:
        removed: set[str] = set()
        for pattern in command.patterns:
            if pattern == "*":
                self.problem(self.pattern_node(command, pattern), "Removing all fields is not allowed [*]")
                continue
            matches = self.match_patterns(pattern)
            if not matches:
                self.problem_for_pattern(command, pattern)
            removed.update(c.name for c in matches)
        self.schema = [c for c in self.schema if c.name not in removed]

    def rename(self, command: ast.Rename) -> None:
        for clause in command.clauses:
            column = self.find(clause.old)
            if column is None:
                suggestion = self.suggest(clause.old, [c.name for c in self.schema])
                self.problem(self.pattern_node(command, clause.old), f"Unknown column [{clause.old}]{suggestion}")
                continue
            renamed = column.renamed(clause.new)
            self.schema = [renamed if c is column else c for c in self.schema if c.name != clause.new or c is column]

    def string_source(self, node: ast.Expr) -> TExpr | None:
        try:
            source = self.expr(node)
        except _Unresolved:
            return None
        if source.type not in (t.KEYWORD, t.TEXT, t.NULL):
            self.problem(
                node,
                f"argument of [{source.source}] must be [string], found value [{source.source}] type "
                f"[{source.type.name}]",
            )
            return None
        return source

    def dissect(self, command: ast.Dissect) -> None:
        source = self.string_source(command.source)
        if source is None:
            return
        try:
            parsed = dissect.parse(command.pattern, command.append_separator)
        except ValueError as exc:
            self.problem(
                command, f"Invalid pattern for dissect: [{command.pattern}]" + (f": {exc}" if str(exc) else "")
            )
            return
        outputs: list[tuple[str, list[str], DataType]] = []
        for name in parsed.outputs:
            alias = self.alias()
            outputs.append((alias, parsed.parts[name], t.KEYWORD))
            self.add_column(Column(name, t.KEYWORD, source.mv, alias))
        self.steps.append(
            ExtractStep(
                source,
                parsed.regex,
                parsed.captures,
                outputs,
                parsed.separator,
                prefixes=parsed.prefixes,
                match_regex=parsed.match_regex,
            )
        )

    def grok(self, command: ast.Grok) -> None:
        source = self.string_source(command.source)
        if source is None:
            return
        try:
            parsed = grok.compile_pattern(command.pattern, *command.more)
        except ValueError as exc:
            self.problem(command, f"Invalid GROK pattern [{command.pattern}]: {exc}")
            return
        outputs: list[tuple[str, list[str], DataType]] = []
        lists: set[str] = set()
        for name, groups, type_ in parsed.outputs:
            alias = self.alias()
            outputs.append((alias, groups, type_))
            multi = source.mv or name in parsed.repeated
            if name in parsed.repeated:
                lists.add(alias)
            self.add_column(Column(name, type_, multi, alias))
        captures = [group for _, groups, _ in parsed.outputs for group in groups]
        captures.sort(key=lambda g: int(g[1:]))
        step = ExtractStep(source, parsed.regex, captures, outputs, grok=True, lists=frozenset(lists))
        self.steps.append(step)

    def mv_expand(self, command: ast.MvExpand) -> None:
        column = self.find(command.field)
        if column is None:
            self.problem(self.pattern_node(command, command.field), f"Unknown column [{command.field}]")
            return
        if not column.mv:
            return
        alias = self.alias()
        self.steps.append(ExpandStep(column.alias, alias))
        expanded = Column(column.name, column.type, False, alias)
        self.schema = [expanded if c is column else c for c in self.schema]

    def lookup_join(self, command: ast.LookupJoin) -> None:
        index = self.catalog.index(command.index.index)
        if index is None:
            self.problem(command.index, f"Unknown index [{command.index.index}]")
            return
        keys: list[JoinKey] = []
        for key, right_name in zip(command.on, command.right or command.on, strict=True):
            left = self.find(key)
            right = index.fields.get(right_name)
            if left is None:
                self.problem(command, f"Unknown column [{key}] in left side of join")
                continue
            if right is None:
                self.problem(command, f"Unknown column [{right_name}] in right side of join")
                continue
            right_type = t.from_mapping(right.es_type)
            compatible = (
                right_type == left.type
                or {right_type, left.type} <= {t.KEYWORD, t.TEXT}
                or (t.is_numeric(right_type) and t.is_numeric(left.type))
            )
            if not compatible:
                self.problem(
                    command,
                    f"JOIN left field [{key}] of type [{left.type.name.upper()}] is incompatible with right field "
                    f"[{right_name}] of type [{right_type.name.upper()}]",
                )
                continue
            keys.append(JoinKey(left.alias, left.mv, left.type.sql, _quote(right.column), right.multi_valued))
        if len(keys) != len(command.on):
            return
        outputs: list[tuple[str, str]] = []
        for name in sorted(index.fields):
            if name in command.on and not command.right:  # `ON field`: the left side's field is the key
                continue
            field = index.fields[name]
            alias = self.alias()
            outputs.append((alias, _quote(field.column)))
            self.add_column(Column(name, t.from_mapping(field.es_type), field.multi_valued, alias))
        source = print_command(command)
        self.steps.append(JoinStep(index, keys, outputs, command.line, command.column, source))

    def enrich(self, command: ast.Enrich) -> None:
        self.problem(command, f"Unresolved enrich policy [{command.policy}]")

    # --- STATS -------------------------------------------------------------------------------

    def stats(self, command: ast.Stats) -> None:
        input_schema = list(self.schema)

        def by_name(field: ast.Field) -> str:
            if field.name:
                return field.name
            return field.expr.name if isinstance(field.expr, ast.FieldRef) else self.source(field.expr)

        # A BY key repeated under the same name only counts once: the last one.
        by_fields = list(command.by)
        last_by = {by_name(f): i for i, f in enumerate(by_fields)}
        groups: list[tuple[str, TExpr]] = []
        group_columns: list[Column] = []
        group_sources: dict[str, ast.Field] = {}
        expand: list[str] = []
        for index, field in enumerate(by_fields):
            name = by_name(field)
            if last_by[name] != index:
                continue
            self.allow_grouping = True
            try:
                expr = self.expr(field.expr)
            except _Unresolved:
                group_columns.append(Column(name, t.UNRESOLVED, False, self.alias()))
                continue
            finally:
                self.allow_grouping = False
            for inner in walk(expr):
                if isinstance(inner, Call) and inner.fn.aggregate:
                    self.problem(inner, f"cannot use an aggregate [{inner.source}] for grouping")
                    break
            alias = self.alias()
            groups.append((alias, expr))
            if expr.mv:
                expand.append(alias)
            group_columns.append(Column(name, expr.type, False, alias))
            group_sources[name] = field

        def outer_ref(ref: ast.FieldRef) -> TExpr:
            for column in reversed(group_columns):
                if column.name == ref.name and column.type == t.UNRESOLVED:
                    raise _Unresolved()
                if column.name == ref.name:
                    return ColumnRef(column.type, False, self.source(ref), ref.line, ref.column, column.alias)
            for field in group_sources.values():
                if field.name is not None and _mentions(field.expr, ref.name):
                    raise self.fail(
                        ref,
                        f"column [{ref.name}] cannot be used as an aggregate once declared in the STATS BY grouping "
                        f"key [{self.source(field)}]",
                    )
            if any(c.name == ref.name for c in input_schema):
                raise self.fail(
                    ref, f"column [{ref.name}] must appear in the STATS BY clause or be used in an aggregate function"
                )
            raise self.unknown_column(ref, ref.name)

        # Inside aggregates (and their WHERE filters) a name the input lacks may be a BY alias.
        self.group_scope = [c for c in group_columns if c.type != t.UNRESOLVED]
        aggregates: list[tuple[str, TExpr]] = []
        aggregate_columns: list[Column] = []
        positions: dict[str, ast.Node] = {}
        try:
            for aggregate in command.aggregates:
                before = len(aggregate_columns)
                self.stats_aggregate(aggregate, group_columns, group_sources, outer_ref, aggregates, aggregate_columns)
                if len(aggregate_columns) > before:
                    positions[aggregate_columns[-1].alias] = aggregate
        finally:
            self.group_scope = []
        self.steps.append(AggregateStep(groups, aggregates, expand))
        nodes: dict[str, ast.Node] = {c.alias: positions.get(c.alias, command) for c in aggregate_columns}
        nodes.update({c.alias: group_sources.get(c.name, command) for c in group_columns})
        # A later column of the same name replaces an earlier one, with Elasticsearch's warning.
        final: list[Column] = []
        columns = aggregate_columns + group_columns
        for column in columns:
            final = [c for c in final if c.name != column.name] + [column]
        winners = {c.name: c for c in final}
        for column in reversed(columns):
            winner = winners[column.name]
            if winner is not column and column.type != t.UNRESOLVED:
                shadowed, by = nodes[column.alias], nodes[winner.alias]
                self.warnings.append(
                    f"Line {shadowed.line}:{shadowed.column}: Field '{column.name}' shadowed by field at line "
                    f"{by.line}:{by.column}"
                )
        self.schema = final

    def stats_aggregate(
        self,
        aggregate: ast.AggregateField,
        group_columns: list[Column],
        group_sources: dict[str, ast.Field],
        outer_ref: Callable[[ast.FieldRef], TExpr],
        aggregates: list[tuple[str, TExpr]],
        aggregate_columns: list[Column],
    ) -> None:
        name = aggregate.name or self.source(aggregate.expr)
        node = aggregate.expr
        if (
            isinstance(node, ast.FieldRef)
            and any(c.name == node.name for c in group_columns)
            and aggregate.name is None
        ):
            self.problem(node, f"grouping key [{node.name}] already specified in the STATS BY clause")
            return
        if aggregate.name is None and any(
            field.name is None and self.source(field.expr) == self.source(node) for field in group_sources.values()
        ):
            self.problem(node, f"grouping key [{self.source(node)}] already specified in the STATS BY clause")
            return
        filter_expr: TExpr | None = None
        if aggregate.where is not None:
            try:
                filter_expr = self.expr(aggregate.where)
            except _Unresolved:
                return
            if filter_expr.type not in (t.BOOLEAN, t.NULL):
                self.problem(
                    aggregate.where,
                    f"Condition expression needs to be boolean, found [{filter_expr.type.name.upper()}]",
                )
                return
            for inner in walk(filter_expr):
                if isinstance(inner, Call) and inner.fn.aggregate:
                    self.problem(
                        aggregate.where,
                        f"cannot use aggregate function [{inner.source}] in aggregate WHERE clause "
                        f"[{self.source(aggregate)}]",
                    )
                    return
        self.outer_agg = outer_ref
        try:
            expr = self.expr(node)
        except _Unresolved:
            aggregate_columns.append(Column(name, t.UNRESOLVED, False, self.alias()))
            return
        finally:
            self.outer_agg = None
        calls = [n for n in walk(expr) if isinstance(n, Call) and n.fn.aggregate]
        if not calls:
            if aggregate.where is not None:
                self.problem(
                    aggregate.where,
                    f"WHERE clause allowed only for aggregate functions, none found in [{self.source(aggregate)}]",
                )
                return
            if not any(isinstance(n, ColumnRef) for n in walk(expr)):
                self.problem(node, f"expected an aggregate function but found [{self.source(node)}]")
                return
            # An expression over the grouping keys only: evaluated once per group.
        if filter_expr is not None:
            for call in calls:
                call.options["filter"] = filter_expr
        alias = self.alias()
        aggregates.append((alias, expr))
        aggregate_columns.append(Column(name, expr.type, expr.mv, alias))

    # --- expressions -------------------------------------------------------------------------

    def expr(self, node: ast.Expr) -> TExpr:
        method = getattr(self, "expr_" + type(node).__name__)
        result: TExpr = method(node)
        return result

    def expr_Literal(self, node: ast.Literal) -> TExpr:
        return self.literal(node)

    def literal(self, node: ast.Literal) -> Const:
        src = self.source(node)
        if node.kind == "null":
            return Const(t.NULL, False, src, node.line, node.column, None)
        if node.kind == "boolean":
            return Const(t.BOOLEAN, False, src, node.line, node.column, node.value)
        if node.kind == "integer":
            assert isinstance(node.value, int)
            return Const(constants.integer_type(node.value), False, src, node.line, node.column, node.value)
        if node.kind == "decimal":
            return Const(t.DOUBLE, False, src, node.line, node.column, float(node.value))  # type: ignore[arg-type]
        return Const(t.KEYWORD, False, src, node.line, node.column, node.value)

    def expr_QualifiedLiteral(self, node: ast.QualifiedLiteral) -> TExpr:
        unit = constants.temporal_unit(node.unit)
        if unit is None:
            raise self.fail(node, f"Unexpected temporal unit: '{node.unit}'")
        return Const(unit[1], False, self.source(node), node.line, node.column, (node.value, unit[0]))

    def expr_ListLiteral(self, node: ast.ListLiteral) -> TExpr:
        items = [self.literal(item) for item in node.items]
        types = {item.type for item in items}
        if len(types) > 1 and types <= t.NUMERIC_TYPES:
            type_ = t.DOUBLE if t.DOUBLE in types else (t.LONG if t.LONG in types else t.INTEGER)
        else:
            type_ = items[0].type if items else t.NULL
        values = [item.value for item in items]
        if type_ == t.DOUBLE:
            values = [float(v) for v in values]
        return Const(type_, bool(values), self.source(node), node.line, node.column, values or None)

    def expr_Param(self, node: ast.Param) -> TExpr:
        value = self.param_value(node)
        type_ = constants.value_type(value)
        if type_ is None:
            raise self.fail(node, f"Unsupported parameter value [{value}]")
        if type_ == t.DOUBLE:
            value = float(value)
        return Const(type_, False, self.source(node), node.line, node.column, value)

    def param_value(self, node: ast.Param) -> Any:
        params = self.params
        name = node.name
        if name is None:
            self.anonymous_param += 1
            index = self.anonymous_param
            if isinstance(params, list) and index <= len(params):
                return _param_item(params[index - 1])
            raise self.fail(node, f"Not enough actual parameters {len(params or [])}")
        if name.isdigit():
            index = int(name)
            if isinstance(params, list) and 1 <= index <= len(params):
                return _param_item(params[index - 1])
            raise self.fail(
                node,
                f"No parameter is defined for position {index}, did you mean any position between 1 and "
                f"{len(params or [])}?",
            )
        named: dict[str, Any] = {}
        if isinstance(params, dict):
            named = params
        elif isinstance(params, list):
            for item in params:
                if isinstance(item, dict):
                    named.update(item)
        if name in named:
            return _param_item(named[name])
        raise self.fail(node, f"Unknown query parameter [{name}]")

    def expr_FieldRef(self, node: ast.FieldRef) -> TExpr:
        if self.outer_agg is not None and self.inside_agg is None:
            return self.outer_agg(node)
        column = self.find(node.name)
        if column is None:
            column = next((c for c in reversed(self.group_scope) if c.name == node.name), None)
        if column is None:
            raise self.unknown_column(node, node.name)
        if column.type == t.UNRESOLVED:
            raise _Unresolved()
        if column.constant is not None:
            return dataclasses.replace(column.constant, source=self.source(node), line=node.line, column=node.column)
        if column.type == t.UNSUPPORTED:
            raise self.fail(node, f"Cannot use field [{node.name}] with unsupported type")
        return ColumnRef(column.type, column.mv, self.source(node), node.line, node.column, column.alias)

    def expr_FunctionCall(self, node: ast.FunctionCall) -> TExpr:
        fn = lookup(node.name)
        if fn is None:
            names = [n for n in _function_names()]
            raise self.fail(node, f"Unknown function [{node.text or node.name}]{self.suggest(node.name, names)}")
        src = self.source(node)
        if fn.aggregate:
            if self.outer_agg is None:
                raise self.fail(node, f"aggregate function [{src}] not allowed outside STATS command")
            if self.inside_agg is not None:
                raise self.fail(
                    node,
                    f"nested aggregations [{src}] not allowed inside other aggregations "
                    f"[{self.source(self.inside_agg)}]",
                )
        if fn.grouping and not self.allow_grouping:
            if self.outer_agg is not None and self.inside_agg is None:
                raise self.fail(node, f"can only use grouping function [{src}] as part of the BY clause")
            raise self.fail(node, f"cannot use grouping function [{src}] outside of STATS command")
        if node.star:
            if fn.name != "count":
                raise self.fail(node, f"{fn.name.upper()}(*) is not supported")
            args: list[TExpr] = []
        else:
            outer = self.inside_agg
            if fn.aggregate:
                self.inside_agg = node
            try:
                args = [self.expr(a) for a in node.args]
            finally:
                self.inside_agg = outer
        return self.call(fn, args, node, src)

    def call(self, fn: Function, args: list[TExpr], node: ast.Node, src: str) -> TExpr:
        params = fn.params
        required = sum(1 for p in params if not p.optional)
        if len(args) < required or (not fn.variadic and len(args) > len(params)):
            raise self.fail(node, f"error building [{fn.name}]: {_arity_message(fn)}")
        checked: list[TExpr] = []
        for index, arg in enumerate(args):
            param = params[min(index, len(params) - 1)]
            checked.append(self.check_arg(fn, param, index, arg, node, src))
        result = Call(
            fn.result(checked),
            fn.returns_mv(checked),
            src,
            node.line,
            node.column,
            fn,
            checked,
        )
        if fn.check is not None:
            message = fn.check(result)
            if message:
                raise self.fail(node, message)
        return result

    def check_arg(self, fn: Function, param: Param, index: int, arg: TExpr, node: ast.Node, src: str) -> TExpr:
        ordinal = "" if len(fn.params) == 1 and not fn.variadic else f"{ORDINALS[min(index, 9)]} "
        if param.constant and not is_constant(arg):
            raise self.fail(node, f"{ordinal}argument of [{src}] must be a constant, received [{arg.source}]")
        if param.constant and not isinstance(arg, Const) and arg.type not in t.TEMPORAL_AMOUNTS:
            arg = fold(arg)
        if (
            arg.type in t.STRING_TYPES
            and isinstance(arg, Const)
            and isinstance(arg.value, str)
            and param.types & t.TEMPORAL_AMOUNTS
        ):
            temporal = _temporal_target(arg.value, param.types)
            if temporal is not None:
                return self.fold_string(arg, temporal)
        if arg.type == t.NULL or arg.type in param.types:
            return arg
        if arg.type in t.STRING_TYPES and isinstance(arg, Const) and isinstance(arg.value, str):
            target = _implicit_target(param.types)
            if target in t.TEMPORAL_AMOUNTS:
                target = _temporal_target(arg.value, param.types) or target
            if target is not None:
                return self.fold_string(arg, target)
        raise self.fail(
            node,
            f"{ordinal}argument of [{src}] must be [{param.expected}], found value [{arg.source}] "
            f"type [{arg.type.name}]",
        )

    def fold_string(self, arg: Const, target: DataType) -> Const:
        try:
            value = constants.convert_string(str(arg.value), target)
        except ValueError as exc:
            raise self.fail(
                arg, f"Cannot convert string [{arg.value}] to [{target.name.upper()}], error [{exc}]"
            ) from None
        return Const(target, False, arg.source, arg.line, arg.column, value)

    def expr_BinaryOp(self, node: ast.BinaryOp) -> TExpr:
        left = self.expr(node.left)
        right = self.expr(node.right)
        src = self.source(node)
        if node.op in ("AND", "OR"):
            for ordinal, side in (("first", left), ("second", right)):
                if side.type not in (t.BOOLEAN, t.NULL):
                    raise self.fail(
                        side,
                        f"{ordinal} argument of [{src}] must be [boolean], found value [{side.source}] "
                        f"type [{side.type.name}]",
                    )
            return self.make(operators.LOGICAL[node.op], [left, right], node, src)
        if node.op in operators.COMPARISONS:
            left, right = self.comparable(left, right, src)
            return self.make(operators.COMPARISONS[node.op], [left, right], node, src)
        return self.arithmetic(node.op, left, right, node, src)

    def make(self, fn: Function, args: list[TExpr], node: ast.Node, src: str) -> Call:
        return Call(fn.result(args), fn.returns_mv(args), src, node.line, node.column, fn, args)

    def comparable(self, left: TExpr, right: TExpr, src: str) -> tuple[TExpr, TExpr]:
        if t.NULL in (left.type, right.type):
            return left, right
        if isinstance(right, Const) and right.type in t.STRING_TYPES and left.type not in t.STRING_TYPES:
            right = self.fold_string(right, left.type) if left.type != t.BOOLEAN else right
        elif isinstance(left, Const) and left.type in t.STRING_TYPES and right.type not in t.STRING_TYPES:
            left = self.fold_string(left, right.type) if right.type != t.BOOLEAN else left
        lt, rt = left.type, right.type
        if lt == rt or (t.is_numeric(lt) and t.is_numeric(rt)) or (t.is_string(lt) and t.is_string(rt)):
            return left, right
        expected = "numeric" if t.is_numeric(lt) else ("string" if t.is_string(lt) else lt.name)
        raise self.fail(
            left,
            f"first argument of [{src}] is [{expected}] so second argument must also be [{expected}] "
            f"but was [{rt.name}]",
        )

    def arithmetic(self, op: str, left: TExpr, right: TExpr, node: ast.Node, src: str) -> TExpr:
        lt, rt = left.type, right.type
        temporal = {t.DATETIME} | t.TEMPORAL_AMOUNTS
        if op in ("+", "-") and (lt in temporal or rt in temporal):
            if (lt == t.DATETIME and rt in t.TEMPORAL_AMOUNTS) or (
                op == "+" and rt == t.DATETIME and lt in t.TEMPORAL_AMOUNTS
            ):
                return self.make(operators.DATE_ARITHMETIC[op], [left, right], node, src)
            if lt in t.TEMPORAL_AMOUNTS and rt == lt:
                return self.make(operators.AMOUNT_ARITHMETIC[op], [left, right], node, src)
            if (lt == t.DATETIME and rt == t.NULL) or (lt == t.NULL and rt == t.DATETIME):
                return Const(t.DATETIME, False, src, node.line, node.column, None)
            if lt == t.DATETIME and rt == t.DATETIME:
                raise self.fail(node, f"[{op}] has arguments with incompatible types [datetime] and [datetime]")
            raise self.fail(node, f"[{op}] has arguments with incompatible types [{lt.name}] and [{rt.name}]")
        expected = "date_nanos, datetime or numeric" if op in ("+", "-") else "numeric"
        for ordinal, side in (("first", left), ("second", right)):
            if side.type != t.NULL and not t.is_numeric(side.type):
                raise self.fail(
                    node,
                    f"{ordinal} argument of [{src}] must be [{expected}], found value [{side.source}] "
                    f"type [{side.type.name}]",
                )
        return self.make(operators.ARITHMETIC[op], [left, right], node, src)

    def expr_UnaryOp(self, node: ast.UnaryOp) -> TExpr:
        operand = self.expr(node.operand)
        src = self.source(node)
        if node.op == "NOT":
            if operand.type not in (t.BOOLEAN, t.NULL):
                raise self.fail(
                    node,
                    f"argument of [{src}] must be [boolean], found value [{operand.source}] type [{operand.type.name}]",
                )
            return self.make(operators.NOT, [operand], node, src)
        if operand.type not in t.NUMERIC_TYPES | t.TEMPORAL_AMOUNTS | {t.NULL}:
            raise self.fail(
                node,
                f"argument of [{src}] must be [numeric, date_period or time_duration], found value "
                f"[{operand.source}] type [{operand.type.name}]",
            )
        return self.make(operators.NEG, [operand], node, src)

    def expr_InList(self, node: ast.InList) -> TExpr:
        value = self.expr(node.value)
        src = self.source(node)
        items = []
        for item_node in node.items:
            item = self.expr(item_node)
            if item.type == t.NULL or value.type == t.NULL:
                items.append(item)
                continue
            items.append(self.in_item(value, item, src))
        result = self.make(operators.IN, [value, *items], node, src)
        if node.negated:
            return self.make(operators.NOT, [result], node, src)
        return result

    def in_item(self, value: TExpr, item: TExpr, src: str) -> TExpr:
        if isinstance(item, Const) and item.type in t.STRING_TYPES and value.type not in t.STRING_TYPES:
            item = self.fold_string(item, value.type)
        if (
            item.type == value.type
            or (t.is_numeric(item.type) and t.is_numeric(value.type))
            or (t.is_string(item.type) and t.is_string(value.type))
        ):
            return item
        raise self.fail(
            item,
            f"argument of [{src}] must be [{value.type.name}], found value [{item.source}] type [{item.type.name}]",
        )

    def expr_IsNull(self, node: ast.IsNull) -> TExpr:
        value = self.expr(node.value)
        return self.make(operators.IS_NOT_NULL if node.negated else operators.IS_NULL, [value], node, self.source(node))

    def expr_Like(self, node: ast.Like) -> TExpr:
        return self.pattern_match(node, operators.LIKE)

    def expr_RLike(self, node: ast.RLike) -> TExpr:
        return self.pattern_match(node, operators.RLIKE)

    def pattern_match(self, node: ast.Like | ast.RLike, fn: Function) -> TExpr:
        value = self.expr(node.value)
        src = self.source(node)
        if value.type not in (t.KEYWORD, t.TEXT, t.NULL):
            raise self.fail(
                node,
                f"argument of [{src}] must be [string], found value [{value.source}] type [{value.type.name}]",
            )
        if node.patterns:
            patterns = [self.expr(p) for p in node.patterns]
            for pattern_expr in patterns:
                if pattern_expr.type not in (t.KEYWORD, t.TEXT, t.NULL):
                    raise self.fail(
                        pattern_expr,
                        f"pattern of [{src}] must be [string], found value [{pattern_expr.source}] type "
                        f"[{pattern_expr.type.name}]",
                    )
        else:
            patterns = [Const(t.KEYWORD, False, node.pattern, node.line, node.column, node.pattern)]
        call = self.make(fn, [value, *patterns], node, src)
        if node.negated:
            return self.make(operators.NOT, [call], node, src)
        return call

    def expr_Cast(self, node: ast.Cast) -> TExpr:
        target = t.CAST_NAMES.get(node.type_name)
        if target is None:
            raise self.fail(node, f"Unsupported conversion to type [{node.type_name.upper()}]")
        value = self.expr(node.value)
        function = {
            t.BOOLEAN: "to_boolean",
            t.DATETIME: "to_datetime",
            t.DOUBLE: "to_double",
            t.INTEGER: "to_integer",
            t.IP: "to_ip",
            t.KEYWORD: "to_string",
            t.TEXT: "to_string",
            t.LONG: "to_long",
            t.UNSIGNED_LONG: "to_unsigned_long",
            t.VERSION: "to_version",
        }[target]
        if value.type == target:
            return value
        fn = lookup(function)
        assert fn is not None
        return self.call(fn, [value], node, self.source(node))

    def expr_Match(self, node: ast.Match) -> TExpr:
        field = self.expr(node.field)
        query = self.expr(node.query)
        return self.make(operators.MATCH, [field, query], node, self.source(node))


_NARROW_FLOATS = frozenset({"float", "half_float"})


def _narrow_float(sql: str, es_type: str, mv: bool) -> str:
    """Elasticsearch stores float/half_float at that precision and widens to double when read
    (2.05 reads back as 2.049999952316284): reproduce the rounding."""

    def narrow(value: str) -> str:
        if es_type == "float":
            return f"CAST(CAST({value} AS FLOAT) AS DOUBLE)"
        quantum = f"pow(2, floor(log2(abs({value}))) - 10)"
        return (
            f"(CASE WHEN {value} = 0 OR NOT isfinite({value}) THEN {value} "
            f"ELSE round({value} / {quantum}) * {quantum} END)"
        )

    if mv:
        return f"list_transform({sql}, lambda x: {narrow('x')})"
    return narrow(sql)


_FOLDER = threading.local()


def fold(expr: TExpr) -> TExpr:
    """Evaluate a constant expression now (Elasticsearch folds them before planning), so
    functions needing constants (BUCKET's range, PERCENTILE's rank...) see a value."""
    from vigil.esql.compiler import compile_constant

    sql = compile_constant(expr)
    connection = getattr(_FOLDER, "connection", None)
    if connection is None:
        connection = duckdb.connect(":memory:")
        connection.execute("SET TimeZone = 'UTC'")
        # Folding is silent: a failing constant just folds to null.
        connection.execute("CREATE MACRO esql_warn(number, detail) AS NULL")
        _FOLDER.connection = connection
    try:
        row = connection.execute(f"SELECT {sql}").fetchone()
    except duckdb.Error:
        return expr
    value = row[0] if row else None
    return Const(expr.type, expr.mv, expr.source, expr.line, expr.column, value)


def _similarity(a: str, b: str) -> float:
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / longest


def _sort_before_lookup_join(commands: Sequence[ast.ProcessingCommand]) -> ast.Sort | None:
    """The SORT whose order a later LOOKUP JOIN loses (Elasticsearch warns about it), unless a SORT
    follows that join or a STATS drops the order first."""
    last_sort: ast.Sort | None = None
    lost: ast.Sort | None = None
    for command in commands:
        if isinstance(command, ast.Sort):
            last_sort, lost = command, None
        elif isinstance(command, ast.Stats):
            last_sort = None
        elif isinstance(command, ast.LookupJoin) and last_sort is not None:
            lost = last_sort
    return lost


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _param_item(item: Any) -> Any:
    # Newer clients may send {"value": v} objects for a parameter.
    if isinstance(item, dict) and "value" in item:
        return item["value"]
    return item


def _mentions(expr: ast.Expr, name: str) -> bool:
    if isinstance(expr, ast.FieldRef):
        return expr.name == name
    children: list[Any] = []
    for value in vars(expr).values():
        if isinstance(value, tuple):
            children.extend(value)
        else:
            children.append(value)
    return any(isinstance(c, ast.Node) and _mentions(c, name) for c in children)  # type: ignore[arg-type]


def _implicit_target(types: frozenset[DataType]) -> DataType | None:
    for candidate in (
        t.DATETIME,
        t.DOUBLE,
        t.LONG,
        t.INTEGER,
        t.IP,
        t.VERSION,
        t.BOOLEAN,
        t.DATE_PERIOD,
        t.TIME_DURATION,
    ):
        if candidate in types:
            return candidate
    return None


def _temporal_target(text: str, types: frozenset[DataType]) -> DataType | None:
    """`"1 hour"` is a time_duration, `"1 day"` a date_period: the unit decides."""
    match = re.fullmatch(r"\s*-?\d+\s*([A-Za-z]+)\s*", text)
    unit = constants.temporal_unit(match.group(1)) if match else None
    if unit is not None and unit[1] in types:
        return unit[1]
    return None


_WORDS = ("zero", "one", "two", "three", "four", "five", "six")


def _arity_message(fn: Function) -> str:
    required = sum(1 for p in fn.params if not p.optional)
    total = len(fn.params)
    if fn.variadic:
        return (
            f"expects at least {_WORDS[required] if required < 7 else required} argument{'s' if required != 1 else ''}"
        )
    if required == total:
        return f"expects exactly {_WORDS[total]} argument{'s' if total != 1 else ''}"
    if total - required == 1:
        return f"expects {_WORDS[required]} or {_WORDS[total]} arguments"
    return f"expects between {_WORDS[required]} and {_WORDS[total]} arguments"


def _function_names() -> list[str]:
    from vigil.esql.functions.registry import names

    return names()

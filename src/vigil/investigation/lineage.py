"""Where each column of an ES|QL result comes from, so the anonymization rules of the source
fields apply to it whatever the query renamed or computed.

`host.name` kept as is, `RENAME host.name AS h`, `EVAL h = CONCAT(host.name, "")` and
`STATS c = COUNT(*) BY h = host.name` all give a column whose values are host names: each of
these columns derives from `host.name` and is anonymized (or hidden) as `host.name` is. Counts
derive from nothing (how many, not which). A column whose origin is unclear is treated as the
field of its own name, which the deny-by-default rules hide unless a rule names it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vigil.anonymization import FieldPolicy, FieldRule
from vigil.esql import ast
from vigil.esql.printer import expression as print_expression

Sources = frozenset[str]
_NOTHING: Sources = frozenset()
# Aggregations whose result says how many, never which value.
_COUNTING = frozenset({"count", "count_distinct"})
# Aggregations whose value over no rows is 0.
_ZERO_WHEN_EMPTY = frozenset({"count", "count_distinct", "sum"})
_DISSECT_KEY = re.compile(r"%\{[+?*&]?([^}>\s]*)(?:->)?\}")
_GROK_KEY = re.compile(r"%\{[A-Za-z0-9_]+:([^:}]+)(?::[a-z]+)?\}")


def column_name(expr: ast.Expr, text: str) -> str:
    """The column name Elasticsearch gives an unnamed expression: its text in the query."""
    if isinstance(expr, ast.FieldRef):
        return expr.name
    if 0 <= expr.start < expr.end <= len(text):
        return text[expr.start : expr.end]
    return print_expression(expr)


class Lineage:
    def __init__(self, query: ast.Query, text: str) -> None:
        self._text = text
        self._defined: dict[str, Sources] = {}
        self._visit(query.source)
        for command in query.commands:
            self._visit(command)

    def sources(self, column: str) -> Sources:
        return self._defined.get(column, frozenset({column}))

    def _name(self, expr: ast.Expr) -> str:
        return column_name(expr, self._text)

    def _refs(self, expr: ast.Expr | None) -> Sources:
        match expr:
            case None | ast.Literal() | ast.QualifiedLiteral() | ast.ListLiteral() | ast.Param():
                return _NOTHING
            case ast.FieldRef(name=name):
                return self.sources(name)
            case ast.FunctionCall(name=name, args=args):
                if name in _COUNTING:
                    return _NOTHING
                return frozenset().union(*(self._refs(arg) for arg in args))
            case ast.BinaryOp(left=left, right=right):
                return self._refs(left) | self._refs(right)
            case ast.UnaryOp(operand=operand):
                return self._refs(operand)
            case ast.InList(value=value, items=items):
                return self._refs(value).union(*(self._refs(item) for item in items))
            case ast.IsNull(value=value) | ast.Like(value=value) | ast.RLike(value=value) | ast.Cast(value=value):
                return self._refs(value)
            case ast.Match(field=field, query=query):
                return self._refs(field) | self._refs(query)
        return _NOTHING

    def _visit(self, command: ast.SourceCommand | ast.ProcessingCommand) -> None:
        match command:
            case ast.Row(fields=fields) | ast.Eval(fields=fields):
                for item in fields:
                    self._defined[item.name or self._name(item.expr)] = self._refs(item.expr)
            case ast.Stats(aggregates=aggregates, by=groups):
                defined: dict[str, Sources] = {}
                for aggregate in aggregates:
                    defined[aggregate.name or self._name(aggregate.expr)] = self._refs(aggregate.expr)
                for group in groups:
                    defined[group.name or self._name(group.expr)] = self._refs(group.expr)
                self._defined = defined
            case ast.Rename(clauses=clauses):
                for clause in clauses:
                    self._defined[clause.new] = self.sources(clause.old)
                    self._defined.pop(clause.old, None)
            case ast.Dissect(source=source, pattern=pattern):
                for key in _DISSECT_KEY.findall(pattern):
                    if key:
                        self._defined[key] = self._refs(source)
            case ast.Grok(source=source, pattern=pattern):
                for key in _GROK_KEY.findall(pattern):
                    self._defined[key] = self._refs(source)
            case _:
                pass  # FROM, WHERE, SORT, LIMIT, KEEP, DROP, MV_EXPAND, LOOKUP JOIN keep names as they are


def column_policy(columns: Sequence[str], lineage: Lineage, base: FieldPolicy) -> FieldPolicy:
    """A policy for the result's columns: hidden if any source field is not allowed, anonymized
    if any is anonymized, sent as is when derived from nothing sensitive."""
    rules = []
    for column in columns:
        sources = lineage.sources(column)
        allowed = all(base.is_allowed(source) for source in sources)
        anonymized = allowed and any(base.is_anonymized(source) for source in sources)
        rules.append(FieldRule(column, allowed, anonymized))
    return FieldPolicy.from_rules(rules)


def counting_columns(query: ast.Query, text: str) -> frozenset[str]:
    """Columns of the last STATS that count or sum (a missing group means 0 of them)."""
    stats = [command for command in query.commands if isinstance(command, ast.Stats)]
    if not stats:
        return frozenset()
    return frozenset(
        aggregate.name or column_name(aggregate.expr, text)
        for aggregate in stats[-1].aggregates
        if isinstance(aggregate.expr, ast.FunctionCall) and aggregate.expr.name in _ZERO_WHEN_EMPTY
    )

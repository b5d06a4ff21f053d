"""Render an ES|QL AST back to canonical text (used for round-trip tests and for logging).

Parentheses are emitted only where precedence requires them, so ``parse(to_esql(q)) == q``.
"""

from __future__ import annotations

import re

from vigil.esql import ast
from vigil.esql.expressions import RESERVED

# Binding strength of each expression form; higher binds tighter (see expressions.py).
_OR, _AND, _NOT, _PREDICATE, _COMPARE, _ADD, _MUL, _UNARY, _CAST, _PRIMARY = range(1, 11)
_BINARY = {"OR": _OR, "AND": _AND, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "%": _MUL}
_IDENT = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]*|[_@][A-Za-z0-9_]+)\Z")
_PATTERN_PART = re.compile(r"(?:[A-Za-z*][A-Za-z0-9_*]*|[_@][A-Za-z0-9_*]+)\Z")
_SOURCE = re.compile(r'[^:"=|,\[\] \t\r\n/]+\Z')
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def to_esql(query: ast.Query) -> str:
    """The canonical single-line text of ``query``."""
    return " | ".join(_command(command) for command in (query.source, *query.commands))


def command(command: ast.SourceCommand | ast.ProcessingCommand) -> str:
    """One command's text (Elasticsearch quotes a LOOKUP JOIN's in its warnings)."""
    return _command(command)


def expression(expr: ast.Expr) -> str:
    return _expr(expr)[0]


def name(text: str, part: re.Pattern[str] = _IDENT) -> str:
    """A field name, backquoted unless every dotted part is a plain identifier."""
    parts = text.split(".")
    if all(part.match(p) and p.lower() not in RESERVED for p in parts):
        return text
    return "`" + text.replace("`", "``") + "`"


def string(value: str) -> str:
    return '"' + "".join(_STRING_ESCAPES.get(ch, ch) for ch in value) + '"'


def _wrap(expr: ast.Expr, minimum: int) -> str:
    text, strength = _expr(expr)
    return text if strength >= minimum else f"({text})"


def _expr(expr: ast.Expr) -> tuple[str, int]:
    match expr:
        case ast.Literal(value=value, kind=kind):
            if kind == "null":
                return "null", _PRIMARY
            if kind == "boolean":
                return ("true" if value else "false"), _PRIMARY
            if kind == "string":
                return string(str(value)), _PRIMARY
            text = repr(value)
            # A negative number re-parses as unary minus folded into the literal.
            return text, (_UNARY if text.startswith("-") else _PRIMARY)
        case ast.QualifiedLiteral(value=value, unit=unit):
            return f"{value} {unit}", _PRIMARY
        case ast.ListLiteral(items=items):
            return "[" + ", ".join(expression(i) for i in items) + "]", _PRIMARY
        case ast.Param(name=param):
            return "?" + (param or ""), _PRIMARY
        case ast.FieldRef(name=field):
            return name(field), _PRIMARY
        case ast.FunctionCall(name=fn, args=args, star=star):
            inner = "*" if star else ", ".join(expression(a) for a in args)
            return f"{fn.upper()}({inner})", _PRIMARY
        case ast.Cast(value=value, type_name=type_name):
            return f"{_wrap(value, _CAST)}::{type_name}", _CAST
        case ast.UnaryOp(op="NOT", operand=operand):
            return f"NOT {_wrap(operand, _NOT)}", _NOT
        case ast.UnaryOp(op=op, operand=operand):
            return f"{op}{_wrap(operand, _UNARY)}", _UNARY
        case ast.BinaryOp(op=op, left=left, right=right) if op in _BINARY:
            strength = _BINARY[op]
            return f"{_wrap(left, strength)} {op} {_wrap(right, strength + 1)}", strength
        case ast.BinaryOp(op=op, left=left, right=right):
            return f"{_wrap(left, _ADD)} {op} {_wrap(right, _ADD)}", _COMPARE
        case ast.InList(value=value, items=items, negated=negated):
            inner = ", ".join(_wrap(i, _COMPARE) for i in items)
            return f"{_wrap(value, _COMPARE)} {'NOT IN' if negated else 'IN'} ({inner})", _PREDICATE
        case ast.IsNull(value=value, negated=negated):
            return f"{_wrap(value, _COMPARE)} IS {'NOT NULL' if negated else 'NULL'}", _PREDICATE
        case ast.Like(value=value, pattern=pattern, negated=negated, patterns=patterns):
            target = string(pattern) if not patterns else "(" + ", ".join(expression(p) for p in patterns) + ")"
            return f"{_wrap(value, _COMPARE)} {'NOT LIKE' if negated else 'LIKE'} {target}", _PREDICATE
        case ast.RLike(value=value, pattern=pattern, negated=negated, patterns=patterns):
            target = string(pattern) if not patterns else "(" + ", ".join(expression(p) for p in patterns) + ")"
            return f"{_wrap(value, _COMPARE)} {'NOT RLIKE' if negated else 'RLIKE'} {target}", _PREDICATE
        case ast.Match(field=field, query=query):
            return f"{_wrap(field, _COMPARE)} : {_wrap(query, _CAST)}", _PREDICATE
    raise TypeError(f"not an ES|QL expression: {expr!r}")


def _field(field: ast.Field | ast.AggregateField) -> str:
    text = expression(field.expr) if field.name is None else f"{name(field.name)} = {expression(field.expr)}"
    if isinstance(field, ast.AggregateField) and field.where is not None:
        text += f" WHERE {expression(field.where)}"
    return text


def _source(pattern: ast.IndexPattern) -> str:
    index = pattern.index if _SOURCE.match(pattern.index) else string(pattern.index)
    return index if pattern.cluster is None else f"{pattern.cluster}:{index}"


def _patterns(patterns: tuple[str, ...]) -> str:
    return ", ".join(name(p, _PATTERN_PART) for p in patterns)


def _sort_key(key: ast.SortKey) -> str:
    text = expression(key.expr)
    if key.order:
        text += f" {key.order}"
    if key.nulls:
        text += f" NULLS {key.nulls}"
    return text


def _command(command: ast.SourceCommand | ast.ProcessingCommand) -> str:
    match command:
        case ast.From(sources=sources, metadata=metadata):
            text = "FROM " + ", ".join(_source(s) for s in sources)
            return text + (" METADATA " + ", ".join(metadata) if metadata else "")
        case ast.Row(fields=fields):
            return "ROW " + ", ".join(_field(f) for f in fields)
        case ast.Show(item=item):
            return f"SHOW {item}"
        case ast.Where(condition=condition):
            return f"WHERE {expression(condition)}"
        case ast.Eval(fields=fields):
            return "EVAL " + ", ".join(_field(f) for f in fields)
        case ast.Stats(aggregates=aggregates, by=by):
            text = "STATS " + ", ".join(_field(a) for a in aggregates)
            return text + (" BY " + ", ".join(_field(f) for f in by) if by else "")
        case ast.Sort(keys=keys):
            return "SORT " + ", ".join(_sort_key(k) for k in keys)
        case ast.Limit(count=count):
            return f"LIMIT {count}"
        case ast.Keep(patterns=patterns):
            return "KEEP " + _patterns(patterns)
        case ast.Drop(patterns=patterns):
            return "DROP " + _patterns(patterns)
        case ast.Rename(clauses=clauses):
            return "RENAME " + ", ".join(
                f"{name(c.old, _PATTERN_PART)} AS {name(c.new, _PATTERN_PART)}" for c in clauses
            )
        case ast.Dissect(source=source, pattern=pattern, append_separator=separator):
            text = f"DISSECT {_wrap(source, _CAST)} {string(pattern)}"
            return text + (f" APPEND_SEPARATOR={string(separator)}" if separator is not None else "")
        case ast.Grok(source=source, pattern=pattern, more=more):
            return f"GROK {_wrap(source, _CAST)} " + ", ".join(string(p) for p in (pattern, *more))
        case ast.MvExpand(field=field):
            return f"MV_EXPAND {name(field)}"
        case ast.LookupJoin(index=index, on=on, right=right) if right:
            pairs = (f"{name(left)} == {name(other)}" for left, other in zip(on, right, strict=True))
            return f"LOOKUP JOIN {_source(index)} ON " + " AND ".join(pairs)
        case ast.LookupJoin(index=index, on=on):
            return f"LOOKUP JOIN {_source(index)} ON " + ", ".join(name(f) for f in on)
        case ast.Enrich(policy=policy, on=on, with_fields=with_fields):
            text = f"ENRICH {policy}" + (f" ON {name(on, _PATTERN_PART)}" if on else "")
            if with_fields:
                text += " WITH " + ", ".join(
                    (f"{name(w.name, _PATTERN_PART)} = " if w.name else "") + name(w.field, _PATTERN_PART)
                    for w in with_fields
                )
            return text
    raise TypeError(f"not an ES|QL command: {command!r}")

"""KQL (Kibana Query Language) for ``_find`` filters: parse text, compile to SQLAlchemy Core.

    node = parse('title:"incident 42" and not is_default:true')
    condition = to_sql(node, {"title": FieldSpec(table.c.title, "text"), ...})

Both steps raise :class:`KqlError` subclasses whose ``message`` is meant for API users.
"""

from .ast import And, Exists, Match, MatchAll, Nested, Node, Not, Or, Phrase, Range, RangeOp, Term, Value
from .errors import KqlError, KqlFieldError, KqlSyntaxError
from .parser import parse
from .printer import to_kql
from .sql import FieldKind, FieldSpec, NestedSpec, to_sql

__all__ = [
    "And",
    "Exists",
    "FieldKind",
    "FieldSpec",
    "KqlError",
    "KqlFieldError",
    "KqlSyntaxError",
    "Match",
    "MatchAll",
    "Nested",
    "NestedSpec",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Range",
    "RangeOp",
    "Term",
    "Value",
    "parse",
    "to_kql",
    "to_sql",
]

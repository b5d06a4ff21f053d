"""Render a syntax tree back to KQL text, so that ``parse(to_kql(node)) == node``.

Useful to build filters programmatically (values are escaped for you) and to echo a normalised
query. The output is canonical rather than pretty: nested and/or groups are always parenthesised.
"""

from __future__ import annotations

import re

from .ast import And, Exists, Match, MatchAll, Nested, Node, Not, Or, Phrase, Term, Value
from .ast import Range as RangeNode
from .scanner import KEYWORDS, SPECIAL, WHITESPACE

_PLAIN_FIELD = re.compile(r"[A-Za-z0-9_.@-]+")
_ESCAPED_WHITESPACE = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}


def to_kql(node: Node) -> str:
    """KQL text for ``node``. ``Match(f, Term("*"))`` prints as ``f:*``, which parses as Exists."""
    if isinstance(node, MatchAll):
        return "*"
    if isinstance(node, Match):
        value = _value(node.value)
        return value if node.field is None else f"{_field(node.field)}:{value}"
    if isinstance(node, RangeNode):
        return f"{_field(node.field)} {node.op} {_quoted(node.value)}"
    if isinstance(node, Exists):
        return f"{_field(node.field)}:*"
    if isinstance(node, Nested):
        return f"{_field(node.path)}:{{ {to_kql(node.query)} }}"
    if isinstance(node, Not):
        return f"not {_operand(node.item)}"
    if isinstance(node, And):
        return " and ".join(_operand(item) for item in node.items)
    if isinstance(node, Or):
        return " or ".join(_operand(item) for item in node.items)
    raise TypeError(f"not a KQL node: {node!r}")


def _operand(node: Node) -> str:
    text = to_kql(node)
    return f"({text})" if isinstance(node, And | Or) else text


def _value(value: Value) -> str:
    return _quoted(value.text) if isinstance(value, Phrase) else _term(value)


def _field(name: str) -> str:
    return name if _PLAIN_FIELD.fullmatch(name) and name.lower() not in KEYWORDS else _quoted(name)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _term(term: Term) -> str:
    """Unquoted form of ``term``: escape what the scanner would otherwise treat as syntax."""
    units: list[str | None] = []  # a literal character, or None for a wildcard
    for index, segment in enumerate(term.segments()):
        if index:
            units.append(None)
        units.extend(segment)

    def raw_space(i: int) -> bool:
        # Only inner spaces print raw; tabs/newlines and edge spaces print as escapes.
        return 0 < i < len(units) - 1 and units[i] in (" ", "\u00a0")

    out: list[str] = []
    i = 0
    while i < len(units):
        char = units[i]
        if char is None:
            out.append("*")
        elif (i == 0 or raw_space(i - 1)) and (keyword := _keyword_at(units, i)) is not None:
            # A whole-word and/or/not would be read as an operator.
            out.append("\\" + keyword)
            i += len(keyword)
            continue
        elif char in SPECIAL:
            out.append("\\" + char)
        elif char == "\n" and _starts_with(units, i + 1, "ot"):
            out.append("\\u000a")  # `\not` would read as the escaped keyword "not"
        elif char in _ESCAPED_WHITESPACE:
            out.append(_ESCAPED_WHITESPACE[char])
        elif char in WHITESPACE and not raw_space(i):
            out.append(f"\\u{ord(char):04x}")  # edge whitespace would be trimmed
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _keyword_at(units: list[str | None], i: int) -> str | None:
    for keyword in KEYWORDS:
        end = i + len(keyword)
        if _starts_with(units, i, keyword) and (end == len(units) or units[end] in WHITESPACE):
            return "".join(u or "" for u in units[i:end])
    return None


def _starts_with(units: list[str | None], i: int, word: str) -> bool:
    chunk = units[i : i + len(word)]
    if len(chunk) != len(word):
        return False
    return all(unit is not None and unit.lower() == char for unit, char in zip(chunk, word, strict=True))

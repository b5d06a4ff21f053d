"""The KQL syntax tree: immutable, comparable values so tests can assert on parse results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

RangeOp: TypeAlias = Literal["<", "<=", ">", ">="]


@dataclass(frozen=True)
class Phrase:
    """A quoted value: matched as an exact phrase, ``*`` is a literal asterisk."""

    text: str


@dataclass(frozen=True)
class Term:
    """An unquoted value such as ``foo bar`` or ``inc*``.

    ``text`` is a wildcard pattern: ``*`` matches any sequence, ``\\*`` is a literal asterisk and
    ``\\\\`` a literal backslash (any other backslash is literal too). The pattern form keeps the
    difference between KQL's ``a*`` and ``a\\*`` without a second field; build one from plain text
    with :meth:`Term.literal`.
    """

    text: str

    @classmethod
    def literal(cls, text: str) -> Term:
        """A term that matches ``text`` exactly, with no wildcards."""
        return cls(text.replace("\\", "\\\\").replace("*", "\\*"))

    def segments(self) -> tuple[str, ...]:
        """The literal pieces between wildcards: ``a*b\\*c`` -> ``("a", "b*c")``."""
        pieces: list[str] = []
        current: list[str] = []
        chars = iter(self.text)
        for char in chars:
            if char == "*":
                pieces.append("".join(current))
                current = []
            elif char == "\\":
                escaped = next(chars, "")
                # Only `\*` and `\\` are escapes; keep any other backslash as typed.
                current.append(escaped if escaped in ("*", "\\") else char + escaped)
            else:
                current.append(char)
        pieces.append("".join(current))
        return tuple(pieces)

    @property
    def has_wildcard(self) -> bool:
        return len(self.segments()) > 1

    @property
    def value(self) -> str:
        """The text with escapes removed (a wildcard stays ``*``); for fields without wildcards."""
        return "*".join(self.segments())


Value: TypeAlias = Phrase | Term


@dataclass(frozen=True)
class MatchAll:
    """An empty query or ``*``: every row matches."""


@dataclass(frozen=True)
class Match:
    """``field:value``; ``field`` is None for a bare value searched in the default fields."""

    field: str | None
    value: Value


@dataclass(frozen=True)
class Range:
    """``field < value`` and friends; ``value`` is the unescaped text, compared per field kind."""

    field: str
    op: RangeOp
    value: str


@dataclass(frozen=True)
class Exists:
    """``field:*``: the field has a value."""

    field: str


@dataclass(frozen=True)
class Nested:
    """``path:{ query }``: one child row under ``path`` must match the whole inner query."""

    path: str
    query: Node


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node: TypeAlias = MatchAll | Match | Range | Exists | Nested | Not | And | Or

"""Wildcard matching in SQL that behaves the same on PostgreSQL and SQLite.

Patterns arrive as the literal segments between KQL ``*`` wildcards, so no user character is
ever interpreted as a SQL wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement, Grouping
from sqlalchemy.sql.visitors import InternalTraversal

_GLOB_SPECIAL = re.compile(r"([*?\[])")


def like_pattern(segments: Sequence[str]) -> str:
    """``%``-joined segments with ``\\``, ``%`` and ``_`` escaped (use with ``escape='\\\\'``)."""
    return "%".join(segment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for segment in segments)


def glob_pattern(segments: Sequence[str]) -> str:
    """SQLite GLOB equivalent of :func:`like_pattern` (``[*]`` is a literal ``*``)."""
    return "*".join(_GLOB_SPECIAL.sub(r"[\1]", segment) for segment in segments)


def keyword_like(column: ColumnElement[Any], segments: Sequence[str]) -> ColumnElement[bool]:
    """Case-sensitive wildcard match, like an Elasticsearch ``wildcard`` query on a keyword."""
    return _CaseSensitiveLike(column, segments)


def contains_ci(column: ColumnElement[Any], segments: Sequence[str]) -> ColumnElement[bool]:
    """Case-insensitive "contains the segments in order" match, for text fields.

    Both sides are folded by the database's own ``lower()`` so they always agree: SQLite (and a
    PostgreSQL database with a C ctype) folds ASCII letters only, so ``été`` finds ``ÉTÉ`` there
    only where PostgreSQL's locale folds it; same-case text always matches.
    """
    pattern = "%" + like_pattern(segments) + "%"
    return func.lower(column).like(func.lower(literal(pattern)), escape="\\")


class _CaseSensitiveLike(ColumnElement[bool]):
    """``column LIKE pattern``, rendered as ``GLOB`` on SQLite whose LIKE ignores ASCII case."""

    inherit_cache = True
    type = Boolean()
    # Both renderings are kept so the statement cache key covers their bound patterns.
    _traverse_internals = [
        ("like_clause", InternalTraversal.dp_clauseelement),
        ("glob_clause", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], segments: Sequence[str]) -> None:
        self.like_clause = column.like(like_pattern(segments), escape="\\")
        self.glob_clause = column.op("GLOB", is_comparison=True)(glob_pattern(segments))

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        return Grouping(self)


@compiles(_CaseSensitiveLike)
def _render_like(element: _CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.like_clause, **kw)


@compiles(_CaseSensitiveLike, "sqlite")
def _render_glob(element: _CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.glob_clause, **kw)

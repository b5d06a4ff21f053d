"""Compile a KQL syntax tree into a SQLAlchemy Core boolean expression.

Callers describe their queryable fields with :class:`FieldSpec` / :class:`NestedSpec`; anything
outside that mapping is a :class:`KqlFieldError` (an HTTP 400), never silently ignored.

Semantics by field kind, approximating what Elasticsearch does for the same mapping:

* ``keyword``: exact, case-sensitive equality; a term with ``*`` is a case-sensitive wildcard
  match (``%`` and ``_`` in the value are literal). Ranges compare strings.
* ``text``: case-insensitive substring match; an unquoted multi-word value matches if ANY word
  is contained (``match`` defaults to OR), a quoted phrase must be contained as a whole.
* ``boolean``: ``true`` / ``false`` (any case); no ranges or wildcards.
* ``number``: integers or decimals, compared numerically.
* ``date``: see :mod:`vigil.kql.dates`. A value is a period as precise as written, so
  ``created_at:2024-01-02`` matches that whole UTC day, ``>= 2024-01-02`` starts at its
  beginning and ``> 2024-01-02`` after its end (Elasticsearch's rounding rules for ``/d``).
  Instants (``now-7d``, fractional seconds) compare exactly.

As in Elasticsearch, a row without a value (NULL) never matches a field query, and ``not``
matches such rows.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import and_, false, func, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from .ast import And, Exists, Match, MatchAll, Nested, Node, Not, Or, Phrase, RangeOp, Term, Value
from .ast import Range as RangeNode
from .dates import DatePeriod, parse_date
from .errors import KqlFieldError
from .like import contains_ci, keyword_like

FieldKind = Literal["keyword", "text", "boolean", "date", "number"]
Condition = ColumnElement[bool]


@dataclass(frozen=True, eq=False)
class FieldSpec:
    """A queryable column and how KQL values compare against it."""

    column: ColumnElement[Any]
    kind: FieldKind


@dataclass(frozen=True, eq=False)
class NestedSpec:
    """A one-to-many child collection, queried as ``path:{ ... }`` or ``path.field: value``.

    ``exists(condition)`` must return "some child row of the current row satisfies condition",
    typically ``select(child).where(child.c.parent_id == parent.c.id, condition).exists()``.
    """

    fields: Mapping[str, FieldSpec]
    exists: Callable[[Condition], Condition]


Fields = Mapping[str, FieldSpec | NestedSpec]


def to_sql(
    node: Node,
    fields: Fields,
    default_fields: Sequence[str] = (),
    *,
    now: datetime | None = None,
) -> Condition:
    """Translate ``node`` into a WHERE condition over ``fields``.

    ``default_fields`` are searched by field-less values (``foo`` instead of ``title:foo``);
    like Elasticsearch's lenient multi-field search, a field whose kind cannot hold the value
    (``abc`` on a number) is skipped. ``now`` (timezone-aware) anchors date math; defaults to
    the current time.
    """
    return _Compiler(fields, tuple(default_fields), now or datetime.now(UTC), None).compile(node)


class _InvalidValue(KqlFieldError):
    """The value cannot be compared with the field (e.g. ``abc`` on a number)."""


class _Compiler:
    def __init__(self, fields: Fields, default_fields: tuple[str, ...], now: datetime, scope: str | None):
        self.fields = fields
        self.default_fields = default_fields
        self.now = now
        self.scope = scope  # the nested path whose sub-fields `fields` holds, if any

    def compile(self, node: Node) -> Condition:
        if isinstance(node, MatchAll):
            return true()
        if isinstance(node, And):
            return and_(*(self.compile(item) for item in node.items))
        if isinstance(node, Or):
            return or_(*(self.compile(item) for item in node.items))
        if isinstance(node, Not):
            # A NULL comparison is "unknown" and NOT unknown is unknown, which would drop rows
            # lacking the field; Elasticsearch's `not` keeps them, so treat unknown as false first.
            return not_(func.coalesce(self.compile(node.item), false()))
        if isinstance(node, Exists):
            return self._leaf(node.field, lambda _, spec: spec.column.is_not(None), exists_on_path=True)
        if isinstance(node, Match):
            value = node.value
            if node.field is None:
                return self._default_fields(value)
            return self._leaf(node.field, lambda name, spec: self._match(name, spec, value))
        if isinstance(node, RangeNode):
            op, bound = node.op, node.value
            return self._leaf(node.field, lambda name, spec: self._range(name, spec, op, bound))
        if isinstance(node, Nested):
            return self._nested(node)
        raise TypeError(f"not a KQL node: {node!r}")

    # -- fields -------------------------------------------------------------------------------

    def _leaf(
        self,
        field: str,
        build: Callable[[str, FieldSpec], Condition],
        *,
        exists_on_path: bool = False,
    ) -> Condition:
        """Resolve ``field`` and build its condition, wrapping it in EXISTS for nested fields."""
        target = self._resolve(field)
        if isinstance(target, FieldSpec):
            return build(field, target)
        if isinstance(target, NestedSpec):
            if exists_on_path:  # `users:*`: at least one child row
                return target.exists(true())
            raise KqlFieldError(
                f"'{field}' is a nested field: query its sub-fields as {field}:{{ field: value }} "
                f"or {field}.field: value"
            )
        nested, subfield = target
        return nested.exists(build(field, nested.fields[subfield]))

    def _resolve(self, field: str) -> FieldSpec | NestedSpec | tuple[NestedSpec, str]:
        if "*" in field:
            raise KqlFieldError(f"wildcards in field names are not supported: '{field}'")
        spec = self.fields.get(field)
        if spec is not None:
            return spec
        # `users.name` routes to the nested spec `users` (same result as `users:{ name: ... }`).
        for index, char in enumerate(field):
            if char == ".":
                parent = self.fields.get(field[:index])
                if isinstance(parent, NestedSpec) and field[index + 1 :] in parent.fields:
                    return parent, field[index + 1 :]
        raise self._unknown(field)

    def _unknown(self, field: str) -> KqlFieldError:
        known: list[str] = []
        for name, spec in self.fields.items():
            known.append(name)
            if isinstance(spec, NestedSpec):
                known.extend(f"{name}.{sub}" for sub in spec.fields)
        where = f" in nested field '{self.scope}'" if self.scope else ""
        listing = ", ".join(sorted(known)) or "(none)"
        return KqlFieldError(f"unknown field '{field}'{where}; known fields: {listing}")

    def _nested(self, node: Nested) -> Condition:
        spec = self._resolve(node.path)
        if not isinstance(spec, NestedSpec):
            raise KqlFieldError(
                f"'{node.path}' is not a nested field: write {node.path}:value, not {node.path}:{{ ... }}"
            )
        return spec.exists(_Compiler(spec.fields, (), self.now, node.path).compile(node.query))

    def _default_fields(self, value: Value) -> Condition:
        if self.scope is not None or not self.default_fields:
            where = f" inside nested field '{self.scope}'" if self.scope else ""
            raise KqlFieldError(
                f"a field name is required{where}: write field:{_show(value)} instead of {_show(value)}"
            )
        conditions = []
        for name in self.default_fields:
            try:
                conditions.append(self._leaf(name, lambda n, spec: self._match(n, spec, value)))
            except _InvalidValue:
                continue
        return or_(*conditions) if conditions else false()

    # -- values -------------------------------------------------------------------------------

    def _match(self, name: str, spec: FieldSpec, value: Value) -> Condition:
        column, kind = spec.column, spec.kind
        if kind == "text":
            if isinstance(value, Phrase):
                return contains_ci(column, [value.text])
            words = value.text.split()
            if len(words) <= 1:
                return contains_ci(column, value.segments())
            return or_(*(contains_ci(column, Term(word).segments()) for word in words))
        if isinstance(value, Term) and value.has_wildcard:
            if kind == "keyword":
                return keyword_like(column, value.segments())
            raise _InvalidValue(f"wildcards are not supported on {kind} field '{name}'")
        text = value.text if isinstance(value, Phrase) else value.value
        if kind == "keyword":
            return column == text
        if kind == "boolean":
            return column.is_(_boolean(name, text))
        if kind == "number":
            return column == _number(name, text)
        period = self._date(name, text)
        if period.end is None:
            return column == period.start
        return and_(column >= period.start, column < period.end)

    def _range(self, name: str, spec: FieldSpec, op: RangeOp, text: str) -> Condition:
        column, kind = spec.column, spec.kind
        if kind in ("keyword", "text"):
            return _COMPARE[op](column, text)
        if kind == "number":
            return _COMPARE[op](column, _number(name, text))
        if kind == "boolean":
            raise _InvalidValue(f"range comparisons are not supported on boolean field '{name}'")
        period = self._date(name, text)
        if period.end is None:
            return _COMPARE[op](column, period.start)
        # A period is "<" / ">=" its start and "<=" / ">" its end.
        if op in ("<", ">="):
            return _COMPARE[op](column, period.start)
        return column < period.end if op == "<=" else column >= period.end

    def _date(self, name: str, text: str) -> DatePeriod:
        try:
            return parse_date(text, self.now)
        except ValueError as error:
            raise _InvalidValue(
                f"'{text}' is not a valid date for field '{name}' ({error}); use ISO-8601 such as "
                "2024-01-31 or 2024-01-31T12:00:00Z, or date math such as now-7d or now/d"
            ) from None


_COMPARE: dict[RangeOp, Callable[[Any, Any], Condition]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_INT64_SAFE_DIGITS = 18


def _boolean(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise _InvalidValue(f"'{text}' is not a boolean; field '{name}' accepts true or false")
    return lowered == "true"


def _number(name: str, text: str) -> int | float:
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        # Databases hold 64-bit integers; longer ones compare as floats instead of overflowing.
        if _INTEGER.fullmatch(stripped) and len(stripped.lstrip("+-")) <= _INT64_SAFE_DIGITS:
            return int(stripped)
        number = float(stripped)
        if math.isfinite(number):
            return number
    raise _InvalidValue(f"'{text}' is not a number; field '{name}' is numeric")


def _show(value: Value) -> str:
    return f'"{value.text}"' if isinstance(value, Phrase) else value.text

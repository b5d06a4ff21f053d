"""What every Kibana `_find` route shares: the result window, `fields=` parsing and selection,
and the count-then-page query over one table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from vigil.errors import BadRequest
from vigil.kql import FieldSpec, KqlError, NestedSpec, Node, parse, to_sql

Row = TypeVar("Row")

# Elasticsearch's index.max_result_window, which Kibana's `_find` routes page within.
MAX_RESULT_WINDOW = 10_000


def check_result_window(page: int, per_page: int) -> None:
    if page * per_page > MAX_RESULT_WINDOW:
        raise BadRequest(
            f"Result window is too large, page * per_page must be less than or equal to: [{MAX_RESULT_WINDOW}]"
        )


def kql_condition(
    kql: str,
    fields: Mapping[str, FieldSpec | NestedSpec],
    default_fields: Sequence[str],
    rewrite: Callable[[Node], Node] | None = None,
) -> ColumnElement[bool]:
    """The SQL condition for a `_find` KQL filter; a 400 naming the problem when it does not parse."""
    try:
        node = parse(kql)
        return to_sql(rewrite(node) if rewrite else node, fields, default_fields=tuple(default_fields))
    except KqlError as exc:
        raise BadRequest(f"Invalid filter query parameter: {exc.message}") from exc


def split_fields(fields: Sequence[str] | None) -> list[str] | None:
    """`fields=a,b` and `fields=a&fields=b` both work, as Kibana's query parsing allows."""
    if not fields:
        return None
    return [name.strip() for value in fields for name in value.split(",") if name.strip()]


def select_fields(
    document: Mapping[str, Any], fields: Sequence[str], aliases: Mapping[str, str], always: Sequence[str]
) -> dict[str, Any]:
    """Keeps the requested fields (stored snake_case names or API camelCase ones) and those the
    response schema requires whatever `fields=` says."""
    wanted = {aliases.get(name, name) for name in fields} | set(always)
    return {key: value for key, value in document.items() if key in wanted}


@dataclass(frozen=True)
class FindQuery:
    page: int = 1
    per_page: int = 20
    sort_field: str = "updated_at"
    sort_order: str = "desc"
    filter: str | None = None
    fields: Sequence[str] | None = None


@dataclass(frozen=True)
class FindShape:
    """How one table answers `_find`: its sortable columns, its tie-breaking id, how a row becomes
    a document, and the `fields=` names (aliases, and what the response always carries)."""

    entity: type[Any]
    id_column: InstrumentedAttribute[Any]
    sort_columns: Mapping[str, InstrumentedAttribute[Any]]
    field_aliases: Mapping[str, str]
    always_returned: Sequence[str]


def find_page(
    session: Session,
    shape: FindShape,
    condition: ColumnElement[bool],
    query: FindQuery,
    document: Callable[[Any], dict[str, Any]],
) -> tuple[int, list[dict[str, Any]]]:
    """The total matching `condition`, and the requested page of documents sorted as asked."""
    check_result_window(query.page, query.per_page)
    total = session.scalar(select(func.count()).select_from(shape.entity).where(condition)) or 0
    if query.per_page == 0:
        return total, []
    column = shape.sort_columns[query.sort_field]
    ordering = column.asc() if query.sort_order == "asc" else column.desc()
    rows = session.scalars(
        select(shape.entity)
        .where(condition)
        .order_by(ordering, shape.id_column)
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    )
    documents = [document(row) for row in rows]
    if query.fields:
        documents = [select_fields(d, query.fields, shape.field_aliases, shape.always_returned) for d in documents]
    return total, documents

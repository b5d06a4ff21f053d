"""Anonymization field storage and rules. Every function takes the space.

Fields are shared by the space, as in Kibana: everyone with assistant read there sees them, and
changing them needs the assistant *customize* privilege (checked by the route). The shipped
defaults are seeded once per space, on first use; deleting or changing them afterwards sticks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.anonymization.fields import schemas
from vigil.anonymization.fields.defaults import DEFAULT_FIELDS
from vigil.anonymization.fields.filters import compile_filter
from vigil.anonymization.fields.models import AnonymizationField, AnonymizationFieldSpace
from vigil.auth.principal import Principal
from vigil.conversations.service import kibana_timestamp
from vigil.db.base import utcnow
from vigil.errors import Conflict, NotFound
from vigil.paging import check_result_window, select_fields

MAX_ALL_DATA = 10_000  # `all_data=true` returns at most this many rows

RuleTuple = tuple[str, bool, bool]  # (field, allowed, anonymized); see vigil.anonymization.policy.FieldRule


# --- wire <-> rows -------------------------------------------------------------------------------


def field_document(row: AnonymizationField) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": row.id,
        "timestamp": kibana_timestamp(row.created_at),
        "field": row.field,
        "allowed": row.allowed,
        "anonymized": row.anonymized,
        "createdAt": kibana_timestamp(row.created_at),
        "updatedAt": kibana_timestamp(row.updated_at),
        "namespace": row.namespace,
    }
    optional = {"createdBy": row.created_by, "updatedBy": row.updated_by}
    document.update({key: value for key, value in optional.items() if value is not None})
    return document


# --- defaults ------------------------------------------------------------------------------------


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def is_seeded(session: Session, space_id: str) -> bool:
    """Whether the space got its defaults already (cheap: one primary-key lookup)."""
    return session.get(AnonymizationFieldSpace, space_id) is not None


def seed_defaults(session: Session, space_id: str) -> bool:
    """Seeds the shipped fields into a space once. Race-safe: the space row is an insert-if-absent
    (ON CONFLICT DO NOTHING), and only the transaction that inserted it adds the fields, again as
    insert-if-absent, so two first requests racing on a new space leave exactly one copy.
    Returns whether this call seeded."""
    insert = _insert(session)
    now = utcnow()
    claimed = session.scalar(
        insert(AnonymizationFieldSpace)
        .values(namespace=space_id, seeded_at=now)
        .on_conflict_do_nothing()
        .returning(AnonymizationFieldSpace.namespace)
    )
    if claimed is None:
        return False
    session.execute(
        insert(AnonymizationField).on_conflict_do_nothing(),
        [
            {
                "namespace": space_id,
                "id": default.id,
                "field": default.field,
                "allowed": default.allowed,
                "anonymized": default.anonymized,
                "created_by": None,
                "updated_by": None,
                "created_at": now,
                "updated_at": now,
            }
            for default in DEFAULT_FIELDS
        ],
    )
    return True


def _is_readonly(session: Session) -> bool:
    return bool(session.connection().get_execution_options().get("vigil_readonly"))


def load_field_rules(session: Session, space_id: str) -> list[RuleTuple]:
    """(field, allowed, anonymized) of every anonymization field of the space, ordered by field.

    For the chat engine: one query when the space has fields. A space never seeded gets its
    defaults first (written in the caller's transaction), or, inside a read-only session, the
    shipped defaults are returned without writing. A space whose fields were all deleted has no
    rules (nothing is allowed)."""
    return space_field_rules(session, space_id).rules


@dataclass(frozen=True)
class SpaceFieldRules:
    rules: list[RuleTuple]
    # False only for a space never seeded read in a read-only session: the shipped defaults,
    # which the space's first read-write use still has to write (so not to be cached).
    stored: bool


def space_field_rules(session: Session, space_id: str) -> SpaceFieldRules:
    """`load_field_rules`, saying whether the rules are the space's stored ones."""
    rows = session.execute(
        select(AnonymizationField.field, AnonymizationField.allowed, AnonymizationField.anonymized)
        .where(AnonymizationField.namespace == space_id)
        .order_by(AnonymizationField.field)
    ).all()
    if rows:
        return SpaceFieldRules([(row.field, bool(row.allowed), bool(row.anonymized)) for row in rows], True)
    if is_seeded(session, space_id):
        return SpaceFieldRules([], True)
    stored = not _is_readonly(session)
    if stored:
        seed_defaults(session, space_id)
        session.flush()
    return SpaceFieldRules(sorted((d.field, d.allowed, d.anonymized) for d in DEFAULT_FIELDS), stored)


# --- reads ---------------------------------------------------------------------------------------


def get_in_space(session: Session, space_id: str, field_id: str, *, lock: bool = False) -> AnonymizationField:
    query = select(AnonymizationField).where(
        AnonymizationField.namespace == space_id, AnonymizationField.id == field_id
    )
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f'anonymization field id: "{field_id}" not found')
    return row


@dataclass(frozen=True)
class FindQuery:
    page: int = 1
    per_page: int = 20
    sort_field: str = "updated_at"
    sort_order: str = "desc"
    filter: str | None = None
    fields: Sequence[str] | None = None
    all_data: bool = False


@dataclass(frozen=True)
class FindResult:
    total: int
    data: list[dict[str, Any]]
    all: list[dict[str, Any]] | None
    aggregations: dict[str, Any]


_SORT_COLUMNS = {
    "created_at": AnonymizationField.created_at,
    "updated_at": AnonymizationField.updated_at,
    "field": AnonymizationField.field,
    "allowed": AnonymizationField.allowed,
    "anonymized": AnonymizationField.anonymized,
}
_FIELD_ALIASES = {
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "created_by": "createdBy",
    "updated_by": "updatedBy",
    "@timestamp": "timestamp",
    "_id": "id",
}
# AnonymizationFieldResponse requires these, so they come back whatever `fields=` says.
_ALWAYS_RETURNED = ("id", "field")


def find(session: Session, space_id: str, query: FindQuery) -> FindResult:
    check_result_window(query.page, query.per_page)
    condition: ColumnElement[bool] = AnonymizationField.namespace == space_id
    if query.filter:
        condition = and_(condition, compile_filter(query.filter))
    # Kibana's `field_status` filters aggregation, over the same query: anonymized (allowed and
    # anonymized), allowed, denied (not allowed). One pass with the total.
    allowed = AnonymizationField.allowed.is_(True)
    counts = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((and_(allowed, AnonymizationField.anonymized.is_(True)), 1), else_=0)), 0),
            func.coalesce(func.sum(case((allowed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((AnonymizationField.allowed.is_(False), 1), else_=0)), 0),
        )
        .select_from(AnonymizationField)
        .where(condition)
    ).one()
    total = int(counts[0] or 0)
    aggregations = {
        "field_status": {
            "buckets": {
                "anonymized": {"doc_count": int(counts[1])},
                "allowed": {"doc_count": int(counts[2])},
                "denied": {"doc_count": int(counts[3])},
            }
        }
    }
    column = _SORT_COLUMNS[query.sort_field]
    ordering = column.asc() if query.sort_order == "asc" else column.desc()
    ordered = select(AnonymizationField).where(condition).order_by(ordering, AnonymizationField.field)

    def documents(rows: Sequence[AnonymizationField]) -> list[dict[str, Any]]:
        docs = [field_document(row) for row in rows]
        if query.fields:
            docs = [select_fields(doc, query.fields, _FIELD_ALIASES, _ALWAYS_RETURNED) for doc in docs]
        return docs

    data: list[dict[str, Any]] = []
    if query.per_page:
        data = documents(session.scalars(ordered.offset((query.page - 1) * query.per_page).limit(query.per_page)).all())
    everything = documents(session.scalars(ordered.limit(MAX_ALL_DATA)).all()) if query.all_data else None
    return FindResult(total=total, data=data, all=everything, aggregations=aggregations)


# --- writes --------------------------------------------------------------------------------------


def _clash(session: Session, space_id: str, field: str) -> str | None:
    return session.scalar(
        select(AnonymizationField.id).where(AnonymizationField.namespace == space_id, AnonymizationField.field == field)
    )


def create(
    session: Session, principal: Principal, space_id: str, props: schemas.AnonymizationFieldCreateProps
) -> AnonymizationField:
    clash = _clash(session, space_id, props.field)
    if clash is not None:
        raise Conflict(f'anonymization field: "{props.field}" already exists (id: "{clash}")')
    now = utcnow()
    row = AnonymizationField(
        namespace=space_id,
        id=str(uuid.uuid4()),
        field=props.field,
        # Kibana stores what it is sent; an absent flag reads as false everywhere.
        allowed=bool(props.allowed),
        anonymized=bool(props.anonymized),
        created_by=principal.username,
        updated_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update(
    session: Session, principal: Principal, space_id: str, props: schemas.AnonymizationFieldUpdateProps
) -> AnonymizationField:
    row = get_in_space(session, space_id, props.id, lock=True)
    # A patch, as Kibana's update script: only the flags sent change.
    if props.allowed is not None:
        row.allowed = props.allowed
    if props.anonymized is not None:
        row.anonymized = props.anonymized
    row.updated_by = principal.username
    row.updated_at = utcnow()
    session.flush()
    return row


def delete_one(session: Session, space_id: str, field_id: str) -> None:
    row = get_in_space(session, space_id, field_id, lock=True)
    session.delete(row)
    session.flush()


def delete_targets(
    session: Session, space_id: str, kql: str | None, ids: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(id, field) of the rows a bulk delete names: those matching the query and, when given,
    whose id is listed."""
    condition: ColumnElement[bool] = AnonymizationField.namespace == space_id
    if kql:
        condition = and_(condition, compile_filter(kql))
    if ids:
        condition = and_(condition, AnonymizationField.id.in_(list(ids)))
    rows = session.execute(
        select(AnonymizationField.id, AnonymizationField.field).where(condition).order_by(AnonymizationField.id)
    )
    return [(row.id, row.field) for row in rows]

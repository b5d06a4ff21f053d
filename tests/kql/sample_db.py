"""A small conversations schema with users, to run compiled KQL against a real database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)

from vigil.kql import FieldSpec, NestedSpec, parse, to_sql
from vigil.kql.sql import Condition, Fields

# The suite's second pass sets this to a PostgreSQL URL; in-memory SQLite otherwise.
DATABASE_URL = os.environ.get("VIGIL_TEST_DATABASE_URL") or "sqlite://"
NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)

# id, title, category, is_default, created_at, score
CONVERSATIONS = [
    (1, "Incident 42 in prod", "assistant", True, datetime(2024, 6, 14, 10, 0, tzinfo=UTC), 4.5),
    (2, "incident 420 triage", "insights", False, datetime(2024, 6, 1, tzinfo=UTC), 10.0),
    (3, "Weekly report: 50% done_ok", "ass%t_1", None, datetime(2024, 1, 2, 23, 59, 59, tzinfo=UTC), -1.0),
    (4, None, "Assistant", False, datetime(2024, 1, 3, tzinfo=UTC), None),
    (5, "Phishing * alert (urgent)", "a*b", True, None, 0.0),
    # Stored as UTC, as the app does: SQLite's DateTime keeps the wall clock and drops the offset.
    (6, "C:\\temp\\evil.exe found", "back\\slash", False, datetime(2024, 1, 1, 1, tzinfo=UTC), 7.0),
]
ALL_IDS = [row[0] for row in CONVERSATIONS]
# conversation_id, user_id, name
USERS = [
    (1, "u1", "elastic"),
    (1, "u2", "alice"),
    (2, "u3", "bob"),
    (3, "u1", "elastic"),
    (5, "u2", "alice"),
    (5, "u4", "Elastic"),
    (6, "u5", None),
]


@dataclass(frozen=True)
class SampleDb:
    engine: Engine
    conversations: Table
    users: Table
    fields: Fields

    def ids(self, query: str, default_fields: Sequence[str] = ()) -> list[int]:
        return self.ids_where(to_sql(parse(query), self.fields, default_fields, now=NOW))

    def ids_where(self, condition: Condition) -> list[int]:
        statement = select(self.conversations.c.id).where(condition).order_by(self.conversations.c.id)
        with self.engine.connect() as connection:
            return list(connection.execute(statement).scalars())


@contextmanager
def sample_db(url: str) -> Iterator[SampleDb]:
    """Create uniquely named tables (so runs can share a PostgreSQL database) and drop them after."""
    engine = create_engine(url)
    suffix = uuid.uuid4().hex[:10]
    metadata = MetaData()
    conversations = Table(
        f"kql_conversations_{suffix}",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("title", String(200)),
        Column("category", String(50), nullable=False),
        Column("is_default", Boolean),
        Column("created_at", DateTime(timezone=True)),
        Column("score", Float),
    )
    users = Table(
        f"kql_conversation_users_{suffix}",
        metadata,
        Column("conversation_id", ForeignKey(conversations.c.id), nullable=False),
        Column("user_id", String(50), nullable=False),
        Column("name", String(100)),
    )

    def users_exist(condition: Condition) -> Condition:
        return select(users.c.user_id).where(users.c.conversation_id == conversations.c.id, condition).exists()

    fields: Fields = {
        "title": FieldSpec(conversations.c.title, "text"),
        "category": FieldSpec(conversations.c.category, "keyword"),
        "is_default": FieldSpec(conversations.c.is_default, "boolean"),
        "created_at": FieldSpec(conversations.c.created_at, "date"),
        "score": FieldSpec(conversations.c.score, "number"),
        "users": NestedSpec(
            {"user_id": FieldSpec(users.c.user_id, "keyword"), "name": FieldSpec(users.c.name, "keyword")},
            users_exist,
        ),
    }
    metadata.create_all(engine)
    try:
        with engine.begin() as connection:
            columns = [column.name for column in conversations.columns]
            connection.execute(conversations.insert(), [dict(zip(columns, row, strict=True)) for row in CONVERSATIONS])
            columns = [column.name for column in users.columns]
            connection.execute(users.insert(), [dict(zip(columns, row, strict=True)) for row in USERS])
        yield SampleDb(engine, conversations, users, fields)
    finally:
        metadata.drop_all(engine)
        engine.dispose()

"""Migrations: one linear history, and the tables they build are exactly what the models say."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from vigil.db.engine import Database
from vigil.db.migrate import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from vigil.db.models import Base, include_name
from vigil.settings import Settings


def test_history_is_linear() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions == sorted(revisions, reverse=True)  # 0004, 0003, ... numbered in order


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    # On the suite's database (SQLite here, PostgreSQL in the second pass), already migrated by
    # the server fixture or migrated now.
    url = os.environ.get("VIGIL_TEST_DATABASE_URL") or None
    database = Database(Settings(data_dir=tmp_path, database_url=url))
    upgrade(database)
    assert current_revision(database) == head_revision()
    with database.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"include_name": include_name}), Base.metadata
        )
    database.dispose()
    assert differences == []


def test_0009_marks_the_entries_naming_the_owner(tmp_path: Path) -> None:
    # A fresh SQLite store: the suite's own database is already at head.
    database = Database(Settings(data_dir=tmp_path, database_url=None))
    upgrade(database, "0008")
    conversation = (
        "INSERT INTO conversations (id, namespace, title, category, created_by_id, created_by_name, "
        "is_shared_globally, replacements, is_default, message_count, created_at, updated_at) VALUES "
        "(:id, 'default', 't', 'assistant', :owner, :owner_name, 0, '{}', 0, 0, :now, :now)"
    )
    entry = "INSERT INTO conversation_users VALUES (:id, :position, :user_id, :user_name)"
    with database.engine.begin() as connection:
        for conversation_id, owner in (("c1", "u1"), ("c2", "u2")):
            now = "2026-01-01 00:00:00.000000"
            connection.execute(
                text(conversation), {"id": conversation_id, "owner": owner, "owner_name": owner, "now": now}
            )
        for row in (
            ("c1", 0, "u1", "u1"),  # the owner, by id
            ("c1", 1, "u2", "u2"),  # someone else
            ("c1", 2, None, "u1"),  # the owner by name only: not marked (only ids are compared)
            ("c2", 0, "u1", "u1"),  # u1 again, on a conversation u2 owns
        ):
            connection.execute(text(entry), dict(zip(("id", "position", "user_id", "user_name"), row, strict=True)))
    upgrade(database)
    with database.engine.connect() as connection:
        marked = connection.execute(
            text("SELECT conversation_id, position FROM conversation_users WHERE is_owner ORDER BY 1, 2")
        ).all()
    database.dispose()
    assert [tuple(row) for row in marked] == [("c1", 0)]

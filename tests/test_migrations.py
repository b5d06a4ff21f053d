"""Migrations: one linear history, and the tables they build are exactly what the models say."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

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

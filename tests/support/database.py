"""A migrated store of the backend the suite runs on, for tests that call services directly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vigil.db.engine import Database
from vigil.db.migrate import upgrade
from vigil.settings import Settings


@contextmanager
def migrated_database(data_dir: Path) -> Iterator[Database]:
    """SQLite under data_dir, or the PostgreSQL database VIGIL_TEST_DATABASE_URL names."""
    db = Database(Settings(data_dir=data_dir, database_url=os.environ.get("VIGIL_TEST_DATABASE_URL") or None))
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()

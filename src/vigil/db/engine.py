"""Engine and session factory, with the per-backend settings that make SQLite safe to share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from vigil.db.read_cache import watch_engine
from vigil.settings import Settings

SQLITE_MMAP_BYTES = 1 << 30


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run beside one writer; busy_timeout queues writers instead of failing;
        # foreign keys are off by default in SQLite and our cascades need them.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Reads through a memory map instead of a read() per page into SQLite's 2 MB page cache:
        # full-text search over 100k passages touches thousands of pages (bench/kb_eval.py: the
        # FTS5 query with its join took half the time). Address space only; the OS page cache
        # holds the pages either way.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE) so a transaction never has to
        # upgrade a stale read snapshot, which SQLite refuses with "database is locked" instead
        # of waiting. Read-only sessions use a plain BEGIN and never block writers under WAL.
        # pysqlite's own implicit BEGIN is turned off (isolation_level=None) so this one rules.
        if conn.get_execution_options().get("vigil_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "isolation_level": None, "timeout": 10},
        )
        _configure_sqlite(engine, settings.sqlite_synchronous)
        return engine
    return create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size * 2,
        pool_pre_ping=True,
        # JIT compilation cost 60-150 ms per `_find` statement (bench/conversations.py) and pays
        # off only on analytical queries, which this store does not run.
        connect_args={"options": "-c jit=off"},
    )


class Database:
    """Owns the engine; hands out sessions that commit on success and roll back on error."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        watch_engine(self.engine)  # config writes invalidate cached reads (vigil.db.read_cache)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(vigil_readonly=True), expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        session = (self._read_sessions if readonly else self._sessions)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

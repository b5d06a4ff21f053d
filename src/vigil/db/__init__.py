"""Relational storage: SQLAlchemy 2 on SQLite (embedded default) or PostgreSQL (shared)."""

from vigil.db.base import Base, UTCDateTime, utcnow
from vigil.db.engine import Database

__all__ = ["Base", "Database", "UTCDateTime", "utcnow"]

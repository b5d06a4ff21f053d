"""Imports every capability's tables so Base.metadata is complete (for Alembic and tests)."""

from vigil.auth import models as auth_models
from vigil.conversations import models as conversation_models
from vigil.db.base import Base

__all__ = ["Base", "auth_models", "conversation_models"]

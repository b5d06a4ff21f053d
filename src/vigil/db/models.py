"""Imports every capability's tables so Base.metadata is complete (for Alembic and tests)."""

from vigil.auth import models as auth_models
from vigil.connectors import models as connector_models
from vigil.conversations import models as conversation_models
from vigil.db.base import Base
from vigil.prompts import models as prompt_models

__all__ = ["Base", "auth_models", "connector_models", "conversation_models", "prompt_models"]

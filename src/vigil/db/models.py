"""Imports every capability's tables so Base.metadata is complete (for Alembic and tests)."""

from vigil.anonymization.fields import models as anonymization_field_models
from vigil.auth import models as auth_models
from vigil.connectors import models as connector_models
from vigil.conversations import models as conversation_models
from vigil.db.base import Base
from vigil.prompts import models as prompt_models

__all__ = [
    "Base",
    "anonymization_field_models",
    "auth_models",
    "connector_models",
    "conversation_models",
    "prompt_models",
]

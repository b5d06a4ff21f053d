"""Imports every capability's tables so Base.metadata is complete (for Alembic and tests)."""

from vigil.anonymization.fields import models as anonymization_field_models
from vigil.auth import models as auth_models
from vigil.charts import models as chart_models
from vigil.connectors import models as connector_models
from vigil.conversations import models as conversation_models
from vigil.db.base import Base
from vigil.investigation import models as investigation_models
from vigil.knowledge_base import models as knowledge_base_models
from vigil.prompts import models as prompt_models

# Tables migrations create outside the models (full-text indexes); Alembic's comparisons skip them.
UNMANAGED_TABLES = knowledge_base_models.SQLITE_FTS_TABLES
# Indexes migrations create on SQLite only (conversations' `_find` covering indexes).
UNMANAGED_INDEXES = frozenset(conversation_models.SQLITE_FIND_INDEXES)


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic `include_name` hook: leave out the tables and indexes the models do not describe."""
    if type_ == "index":
        return name not in UNMANAGED_INDEXES
    return not (type_ == "table" and name in UNMANAGED_TABLES)


__all__ = [
    "UNMANAGED_INDEXES",
    "UNMANAGED_TABLES",
    "Base",
    "anonymization_field_models",
    "auth_models",
    "chart_models",
    "connector_models",
    "conversation_models",
    "include_name",
    "investigation_models",
    "knowledge_base_models",
    "prompt_models",
]

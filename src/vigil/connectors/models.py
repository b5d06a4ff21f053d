"""The connectors table. Secrets are one Fernet token (vigil.crypto), never plaintext."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base, JSONType, UTCDateTime, utcnow


class Connector(Base):
    __tablename__ = "connectors"

    # Connectors belong to one space; the same id may exist in two spaces.
    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    connector_type_id: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    secrets: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

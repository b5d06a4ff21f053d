"""The charts table: a chart keeps the query it came from and its Vega-Lite spec (data inline)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base, JSONType, UTCDateTime, utcnow


class Chart(Base):
    __tablename__ = "charts"
    __table_args__ = (Index("ix_charts_conversation", "conversation_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(255))
    # Deleting the conversation deletes its charts; a chart of an unsaved turn has none and is
    # its creator's alone.
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    created_by_id: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

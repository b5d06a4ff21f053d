"""Per-conversation investigation settings: the "alerts to analyze" a conversation was given."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class ConversationAlertsSetting(Base):
    __tablename__ = "conversation_alerts_settings"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    alerts_to_analyze: Mapped[int] = mapped_column(Integer)

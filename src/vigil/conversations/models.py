"""Tables of conversations. Messages live in their own table so appending one is one INSERT."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.db.base import Base, JSONType, UTCDateTime, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_owner_updated", "namespace", "created_by_id", "updated_at"),
        Index("ix_conversations_owner_created", "namespace", "created_by_id", "created_at"),
        Index("ix_conversations_namespace_shared", "namespace", "is_shared_globally", "updated_at", "created_by_id"),
    )
    # On SQLite, migration 0009 also builds `SQLITE_FIND_INDEXES` (below): wider copies of the owner
    # and shared indexes that carry category, title and id, so `_find` filters and pages from the
    # index alone. Not declared here: titles are unbounded text, which PostgreSQL's B-tree entries
    # (about 2.7 kB at most) cannot promise to hold.

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), default="assistant")
    created_by_id: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(255))
    # Kibana's rule: an empty `users` list means shared with everyone in the space. Kept as a
    # column so `_find` can use an index instead of an anti-join.
    is_shared_globally: Mapped[bool] = mapped_column(Boolean, default=False)
    api_config: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    replacements: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    exclude_from_last_conversation_storage: Mapped[bool | None] = mapped_column(Boolean)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[ConversationUser]] = relationship(
        order_by="ConversationUser.position", cascade="all, delete-orphan", lazy="selectin"
    )
    messages: Mapped[list[ConversationMessage]] = relationship(
        order_by="ConversationMessage.seq", cascade="all, delete-orphan", lazy="raise"
    )


class ConversationUser(Base):
    """Who may see a conversation besides its owner (Kibana's `users`)."""

    __tablename__ = "conversation_users"
    __table_args__ = (
        Index("ix_conversation_users_user_id", "user_id", "is_owner", "conversation_id"),
        Index("ix_conversation_users_user_name", "user_name", "user_id", "is_owner", "conversation_id"),
    )

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    user_name: Mapped[str | None] = mapped_column(String(255))
    # The entry's id is the conversation owner's: `_find`'s "listed" branch skips these by index
    # (every private conversation lists its owner, so a user's entries are mostly their own).
    # Only ever true when `user_id == created_by_id`, so a row left false is merely slower.
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ConversationMessage(Base):
    __tablename__ = "conversation_messages"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    # Kept as the client sent it: Kibana echoes message timestamps back verbatim.
    timestamp: Mapped[str] = mapped_column(String(64))
    is_error: Mapped[bool | None] = mapped_column(Boolean)
    reader: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    trace_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    message_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    # What chat/complete attached to a user message (an alert or event) and the fields to hide;
    # kept raw here so anonymization can be applied whenever the message is replayed.
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    fields_to_anonymize: Mapped[list[str] | None] = mapped_column(JSONType)
    # The assistant's tool rounds for this answer (vigil.agent.transcript), so turns replay whole.
    rounds: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)


# SQLite-only covering indexes for `_find` (migration 0009), left out of Alembic's comparison.
SQLITE_FIND_INDEXES = {
    "ix_conversations_owner_find": ("namespace", "created_by_id", "updated_at", "category", "title", "id"),
    "ix_conversations_shared_find": (
        "namespace",
        "is_shared_globally",
        "updated_at",
        "created_by_id",
        "category",
        "title",
        "id",
    ),
}

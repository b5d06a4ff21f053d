"""Tables of prompts (system and quick), one row per prompt per space."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.db.base import Base, JSONType, UTCDateTime, utcnow

# Owner of the prompts Vigil ships: nobody, so `owner_id` stays a plain NOT NULL column that
# takes part in the name-uniqueness constraint.
BUILTIN_OWNER = ""


class Prompt(Base):
    """Keyed by (namespace, id): the defaults keep the same stable id in every space."""

    __tablename__ = "prompts"
    __table_args__ = (
        # Kibana refuses a second prompt of the caller's with the same name; per type here.
        UniqueConstraint("namespace", "prompt_type", "owner_id", "name", name="uq_prompts_owner_name"),
        Index("ix_prompts_namespace_updated", "namespace", "updated_at"),
    )

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    prompt_type: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(64))
    consumer: Mapped[str | None] = mapped_column(String(255))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_new_conversation_default: Mapped[bool | None] = mapped_column(Boolean)
    owner_id: Mapped[str] = mapped_column(String(64))
    users: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str | None] = mapped_column(String(64))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    categories: Mapped[list[PromptCategory]] = relationship(
        order_by="PromptCategory.position", cascade="all, delete-orphan", lazy="selectin"
    )


class PromptCategory(Base):
    """One category of a prompt: a row each, so KQL `categories:alert` is an indexed EXISTS."""

    __tablename__ = "prompt_categories"
    __table_args__ = (
        ForeignKeyConstraint(
            ["namespace", "prompt_id"],
            ["prompts.namespace", "prompts.id"],
            name="fk_prompt_categories_prompt",
            ondelete="CASCADE",
        ),
        Index("ix_prompt_categories_category", "namespace", "category"),
    )

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    prompt_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(255))

"""Tables of anonymization fields: one row per field per space, plus a row per seeded space."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base, UTCDateTime, utcnow


class AnonymizationField(Base):
    """Keyed by (namespace, id): the shipped fields keep the same stable id in every space."""

    __tablename__ = "anonymization_fields"
    __table_args__ = (UniqueConstraint("namespace", "field", name="uq_anonymization_fields_field"),)

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    field: Mapped[str] = mapped_column(String(255))
    allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymized: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(255))
    updated_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnonymizationFieldSpace(Base):
    """A space whose defaults were seeded. Kept apart from the fields so that deleting shipped
    fields sticks: the defaults are seeded once per space, never re-added."""

    __tablename__ = "anonymization_field_spaces"

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    seeded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

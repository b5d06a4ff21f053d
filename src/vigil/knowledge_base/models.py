"""Tables of the knowledge base: entries, their chunks, embeddings, per-space state, built-in collections.

An entry is what the API shows (Kibana's document or index entry). Its text is split into chunks,
the unit of retrieval: each chunk is indexed for full-text search (SQLite FTS5 table
`kb_chunks_fts`, created by the migration, or the `search_vector` column on PostgreSQL) and has
one embedding per embedding model in `kb_vectors`, keyed by the hash of its text so a text is
embedded once whatever entry or space it appears in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base, JSONType, UTCDateTime, utcnow

# Built-in reference content (ATT&CK, the ES|QL reference, Vigil's documentation) is stored once,
# under this namespace, and is visible from every space.
BUILTIN_NAMESPACE = ""
# Owner of entries shared with the whole space (Kibana: `users: []`, `global: true`).
GLOBAL_OWNER = ""

# The SQLite FTS5 index of kb_chunks and its shadow tables: made by the migration, not by these
# models (SQLAlchemy cannot describe a virtual table), so schema comparisons leave them out.
SQLITE_FTS_TABLES = frozenset(
    {"kb_chunks_fts", "kb_chunks_fts_data", "kb_chunks_fts_idx", "kb_chunks_fts_docsize", "kb_chunks_fts_config"}
)

# SQLite needs INTEGER PRIMARY KEY (the rowid) for FTS5's content_rowid; PostgreSQL a bigint.
ChunkId = BigInteger().with_variant(Integer(), "sqlite")
# The full-text document of a chunk on PostgreSQL; unused (NULL) on SQLite, where FTS5 indexes it.
SearchVector = Text().with_variant(TSVECTOR(), "postgresql")


class KnowledgeBaseEntry(Base):
    __tablename__ = "kb_entries"
    __table_args__ = (
        Index("ix_kb_entries_namespace_owner_updated", "namespace", "owner_id", "updated_at"),
        Index("ix_kb_entries_namespace_updated", "namespace", "updated_at"),
        Index("ix_kb_entries_collection", "collection"),
        # Required entries (every chat turn) and index entries (the data-plane tools) of a space:
        # without it both read every entry of the space (45 ms at 100k entries).
        Index("ix_kb_entries_namespace_type_required", "namespace", "entry_type", "required", "updated_at"),
    )

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    entry_type: Mapped[str] = mapped_column(String(16))  # document | index
    name: Mapped[str] = mapped_column(Text)
    # Document entries
    kb_resource: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Index entries
    index_name: Mapped[str | None] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    query_description: Mapped[str | None] = mapped_column(Text)
    input_schema: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    output_fields: Mapped[list[str] | None] = mapped_column(JSONType)
    # Who sees it: GLOBAL_OWNER (the whole space) or one user's id.
    owner_id: Mapped[str] = mapped_column(String(64))
    users: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # Name of the built-in collection the entry belongs to (None: written by users).
    collection: Mapped[str | None] = mapped_column(String(64))
    # A link to the original (ATT&CK page, documentation file), shown with citations.
    url: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255))
    updated_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeBaseChunk(Base):
    """A passage of an entry. Rows are never updated: changing an entry replaces its chunks, and ids
    only grow (AUTOINCREMENT), which is what lets the in-memory dense index refresh incrementally."""

    __tablename__ = "kb_chunks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["namespace", "entry_id"],
            ["kb_entries.namespace", "kb_entries.id"],
            name="fk_kb_chunks_entry",
            ondelete="CASCADE",
        ),
        Index("ix_kb_chunks_entry", "namespace", "entry_id"),
        Index("ix_kb_chunks_text_hash", "text_hash"),
        Index("ix_kb_chunks_search", "search_vector", postgresql_using="gin"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ChunkId, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(255))
    entry_id: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)
    # Copied from the entry so retrieval filters on the chunk alone.
    owner_id: Mapped[str] = mapped_column(String(64))
    # The entry's name, indexed apart from the text so a match there weighs more (ids, titles).
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    search_vector: Mapped[str | None] = mapped_column(SearchVector)


class KnowledgeBaseVector(Base):
    """One embedding of one text by one model: float32 little-endian bytes."""

    __tablename__ = "kb_vectors"

    model_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimensions: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class KnowledgeBaseSpace(Base):
    """A space's knowledge base: its embedding model and a revision that every write bumps, so each
    server knows when its cached index of the space is stale."""

    __tablename__ = "kb_spaces"

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    embedding_model_id: Mapped[str] = mapped_column(String(255))
    builtin_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
    set_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeBaseCollection(Base):
    """A built-in collection as loaded: what version of which source, so setup reloads only changes."""

    __tablename__ = "kb_collections"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    entry_count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

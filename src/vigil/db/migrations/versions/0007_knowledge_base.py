"""knowledge base: entries, chunks (full-text indexed), embeddings, per-space state, built-in collections

On SQLite the chunks are indexed by an FTS5 table kept in step by triggers; on PostgreSQL by the
`search_vector` tsvector column and its GIN index. See vigil/knowledge_base/lexical.py.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import vigil.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# FTS5 over kb_chunks' title and text (external content: stored once, in kb_chunks). Porter
# stemming so "dumping" finds "dumped"; diacritics folded.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE kb_chunks_fts USING fts5(title, text, content='kb_chunks', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_chunks_fts_insert AFTER INSERT ON kb_chunks BEGIN "
    "INSERT INTO kb_chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER kb_chunks_fts_delete AFTER DELETE ON kb_chunks BEGIN "
    "INSERT INTO kb_chunks_fts(kb_chunks_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER kb_chunks_fts_update AFTER UPDATE OF title, text ON kb_chunks BEGIN "
    "INSERT INTO kb_chunks_fts(kb_chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO kb_chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
]


def upgrade() -> None:
    op.create_table(
        "kb_collections",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kb_collections")),
    )
    op.create_table(
        "kb_entries",
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("entry_type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kb_resource", sa.String(length=64), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("index_name", sa.Text(), nullable=True),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("query_description", sa.Text(), nullable=True),
        sa.Column("input_schema", JSON, nullable=True),
        sa.Column("output_fields", JSON, nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("users", JSON, nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "id", name=op.f("pk_kb_entries")),
    )
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.create_index("ix_kb_entries_collection", ["collection"], unique=False)
        batch_op.create_index(
            "ix_kb_entries_namespace_owner_updated", ["namespace", "owner_id", "updated_at"], unique=False
        )
        batch_op.create_index("ix_kb_entries_namespace_updated", ["namespace", "updated_at"], unique=False)

    op.create_table(
        "kb_spaces",
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("embedding_model_id", sa.String(length=255), nullable=False),
        sa.Column("builtin_enabled", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("set_up_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", name=op.f("pk_kb_spaces")),
    )
    op.create_table(
        "kb_vectors",
        sa.Column("model_id", sa.String(length=255), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "text_hash", name=op.f("pk_kb_vectors")),
    )
    op.create_table(
        "kb_chunks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("entry_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("search_vector", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["namespace", "entry_id"],
            ["kb_entries.namespace", "kb_entries.id"],
            name="fk_kb_chunks_entry",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_chunks")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("kb_chunks", schema=None) as batch_op:
        batch_op.create_index("ix_kb_chunks_entry", ["namespace", "entry_id"], unique=False)
        batch_op.create_index("ix_kb_chunks_search", ["search_vector"], unique=False, postgresql_using="gin")
        batch_op.create_index("ix_kb_chunks_text_hash", ["text_hash"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("kb_chunks_fts_update", "kb_chunks_fts_delete", "kb_chunks_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS kb_chunks_fts")
    with op.batch_alter_table("kb_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_chunks_text_hash")
        batch_op.drop_index("ix_kb_chunks_search", postgresql_using="gin")
        batch_op.drop_index("ix_kb_chunks_entry")
    op.drop_table("kb_chunks")
    op.drop_table("kb_vectors")
    op.drop_table("kb_spaces")
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_entries_namespace_updated")
        batch_op.drop_index("ix_kb_entries_namespace_owner_updated")
        batch_op.drop_index("ix_kb_entries_collection")
    op.drop_table("kb_entries")
    op.drop_table("kb_collections")

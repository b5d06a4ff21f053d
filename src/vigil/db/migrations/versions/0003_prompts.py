"""prompts: system and quick prompts (Kibana's Prompts API), with their categories

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 21:39:36.200550
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import vigil.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prompt_type", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=64), nullable=True),
        sa.Column("consumer", sa.String(length=255), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_new_conversation_default", sa.Boolean(), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("users", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("namespace", "prompt_type", "owner_id", "name", name="uq_prompts_owner_name"),
    )
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.create_index("ix_prompts_namespace_updated", ["namespace", "updated_at"], unique=False)

    op.create_table(
        "prompt_categories",
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("prompt_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace", "prompt_id"],
            ["prompts.namespace", "prompts.id"],
            name="fk_prompt_categories_prompt",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("namespace", "prompt_id", "position", name=op.f("pk_prompt_categories")),
    )
    with op.batch_alter_table("prompt_categories", schema=None) as batch_op:
        batch_op.create_index("ix_prompt_categories_category", ["namespace", "category"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prompt_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_prompt_categories_category")

    op.drop_table("prompt_categories")
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.drop_index("ix_prompts_namespace_updated")

    op.drop_table("prompts")

"""conversations: the shared-with-space index also covers the owner, so `_find` counts and pages
the shared branch (`is_shared_globally AND created_by_id != caller`) from the index alone

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_conversations_namespace_shared", table_name="conversations")
    op.create_index(
        "ix_conversations_namespace_shared",
        "conversations",
        ["namespace", "is_shared_globally", "updated_at", "created_by_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_namespace_shared", table_name="conversations")
    op.create_index(
        "ix_conversations_namespace_shared",
        "conversations",
        ["namespace", "is_shared_globally", "updated_at"],
        unique=False,
    )

"""conversations: `_find` reads indexes only. conversation_users.is_owner marks the entry naming
the owner, so the "listed" branch seeks past a user's own conversations (all listed: every private
conversation names its owner) instead of reading each; on SQLite, covering copies of the owner and
shared indexes carry category, title and id, so filters and pages never read the table.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Frozen copy of vigil.conversations.models.SQLITE_FIND_INDEXES as of this revision.
SQLITE_FIND_INDEXES = {
    "ix_conversations_owner_find": ["namespace", "created_by_id", "updated_at", "category", "title", "id"],
    "ix_conversations_shared_find": [
        "namespace",
        "is_shared_globally",
        "updated_at",
        "created_by_id",
        "category",
        "title",
        "id",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("conversation_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_owner", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_index("ix_conversation_users_user_id")
        batch_op.drop_index("ix_conversation_users_user_name")
    # By id only, as the service sets it: a name-only entry is never marked.
    op.execute(
        "UPDATE conversation_users SET is_owner = true WHERE user_id = "
        "(SELECT created_by_id FROM conversations WHERE conversations.id = conversation_users.conversation_id)"
    )
    with op.batch_alter_table("conversation_users", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_users_user_id", ["user_id", "is_owner", "conversation_id"], unique=False)
        batch_op.create_index(
            "ix_conversation_users_user_name", ["user_name", "user_id", "is_owner", "conversation_id"], unique=False
        )
    if op.get_bind().dialect.name == "sqlite":
        for name, columns in SQLITE_FIND_INDEXES.items():
            op.create_index(name, "conversations", columns, unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_FIND_INDEXES:
            op.drop_index(name, table_name="conversations")
    with op.batch_alter_table("conversation_users", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_users_user_name")
        batch_op.drop_index("ix_conversation_users_user_id")
        batch_op.create_index("ix_conversation_users_user_name", ["user_name", "conversation_id"], unique=False)
        batch_op.create_index("ix_conversation_users_user_id", ["user_id", "conversation_id"], unique=False)
        batch_op.drop_column("is_owner")

"""chat message extras: attached data, tool rounds, token usage

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("conversation_messages") as batch:
        batch.add_column(sa.Column("data", _JSON, nullable=True))
        batch.add_column(sa.Column("fields_to_anonymize", _JSON, nullable=True))
        batch.add_column(sa.Column("rounds", _JSON, nullable=True))
        batch.add_column(sa.Column("prompt_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("completion_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_messages") as batch:
        for column in ("completion_tokens", "prompt_tokens", "rounds", "fields_to_anonymize", "data"):
            batch.drop_column(column)

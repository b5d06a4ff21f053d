"""anonymization fields: per-space field rules (Kibana's Anonymization Fields API)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anonymization_fields",
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("anonymized", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "id", name=op.f("pk_anonymization_fields")),
        sa.UniqueConstraint("namespace", "field", name="uq_anonymization_fields_field"),
    )
    op.create_table(
        "anonymization_field_spaces",
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("seeded_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", name=op.f("pk_anonymization_field_spaces")),
    )


def downgrade() -> None:
    op.drop_table("anonymization_field_spaces")
    op.drop_table("anonymization_fields")

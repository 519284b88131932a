"""Add endpoints

Revision ID: a5999fa2157c
Revises: ac6e95dd1c8b
Create Date: 2024-02-06 16:31:48.760295

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "a5999fa2157c"
down_revision = "ac6e95dd1c8b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "health_check_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("health_check_config", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
    )


def downgrade() -> None:
    op.drop_table("endpoints")

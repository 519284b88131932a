"""Add container registry extra

Revision ID: 8239f50faf88
Revises: df79dd69edb5
Create Date: 2024-09-03 11:35:50.927601

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "8239f50faf88"
down_revision = "df79dd69edb5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "container_registries",
        sa.Column("extra", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("container_registries", "extra")

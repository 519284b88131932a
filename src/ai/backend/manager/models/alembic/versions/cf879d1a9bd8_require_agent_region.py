"""Require agent region

Revision ID: cf879d1a9bd8
Revises: 8239f50faf88
Create Date: 2024-11-12 17:08:44.630915

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "cf879d1a9bd8"
down_revision = "8239f50faf88"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE agents SET region = 'local' WHERE region IS NULL")
    op.alter_column("agents", "region", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    op.alter_column("agents", "region", existing_type=sa.String(length=64), nullable=True)

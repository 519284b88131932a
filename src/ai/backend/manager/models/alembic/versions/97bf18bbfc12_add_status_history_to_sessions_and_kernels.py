"""Add status history to sessions and kernels

Revision ID: 97bf18bbfc12
Revises: e808dcc012ea
Create Date: 2023-07-04 18:22:40.660127

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "97bf18bbfc12"
down_revision = "e808dcc012ea"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sessions",
        sa.Column("status_history", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "kernels",
        sa.Column("status_history", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("kernels", "status_history")
    op.drop_column("sessions", "status_history")

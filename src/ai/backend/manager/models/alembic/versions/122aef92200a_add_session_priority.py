"""Add session priority

Revision ID: 122aef92200a
Revises: bcbba7ad3c44
Create Date: 2023-05-30 15:12:03.775410

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "122aef92200a"
down_revision = "bcbba7ad3c44"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sessions", sa.Column("priority", sa.Integer(), server_default="10", nullable=False)
    )
    op.create_index("ix_sessions_status_priority", "sessions", ["status", "priority"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sessions_status_priority", table_name="sessions")
    op.drop_column("sessions", "priority")

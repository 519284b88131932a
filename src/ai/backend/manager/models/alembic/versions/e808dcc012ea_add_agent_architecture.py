"""Add agent architecture

Revision ID: e808dcc012ea
Revises: 122aef92200a
Create Date: 2023-06-13 09:37:51.129854

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e808dcc012ea"
down_revision = "122aef92200a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "agents",
        sa.Column("architecture", sa.String(length=32), server_default="x86_64", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("agents", "architecture")

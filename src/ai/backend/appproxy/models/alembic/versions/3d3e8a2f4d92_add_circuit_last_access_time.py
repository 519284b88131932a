"""Add circuit last access time

Revision ID: 3d3e8a2f4d92
Revises: d14a0861a41b
Create Date: 2024-07-02 11:07:33.190548

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3d3e8a2f4d92"
down_revision = "d14a0861a41b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "circuits", sa.Column("last_access_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("circuits", "last_access_at")

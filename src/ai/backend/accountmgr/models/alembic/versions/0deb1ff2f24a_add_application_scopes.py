"""Add application scopes

Revision ID: 0deb1ff2f24a
Revises: ec781d9e4573
Create Date: 2024-06-18 13:29:08.357140

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0deb1ff2f24a"
down_revision = "ec781d9e4573"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "applications",
        sa.Column(
            "scopes",
            postgresql.ARRAY(sa.String()),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
    )
    op.add_column(
        "applications",
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("applications", "is_active")
    op.drop_column("applications", "scopes")

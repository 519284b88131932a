"""Widen worker authority

Revision ID: d28c058dcd06
Revises: 3d3e8a2f4d92
Create Date: 2024-09-10 17:52:14.604771

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d28c058dcd06"
down_revision = "3d3e8a2f4d92"
branch_labels = None
depends_on = None


# migration-safety: ignore=changing-column-type varchar(255) to varchar(512) only raises the limit: PostgreSQL updates the catalog without rewriting or checking the table (a brief ACCESS EXCLUSIVE lock, bounded by lock_timeout)


def upgrade() -> None:
    op.alter_column(
        "workers",
        "authority",
        existing_type=sa.String(length=255),
        type_=sa.String(length=512),
        existing_nullable=False,
    )


def downgrade() -> None:
    op.alter_column(
        "workers",
        "authority",
        existing_type=sa.String(length=512),
        type_=sa.String(length=255),
        existing_nullable=False,
    )

"""Rename wsproxy_addr to app_proxy_addr

Revision ID: 806a5e4b7fe3
Revises: b7c712b2e252
Create Date: 2024-01-16 15:30:21.784905

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "806a5e4b7fe3"
down_revision = "b7c712b2e252"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "scaling_groups",
        "wsproxy_addr",
        new_column_name="app_proxy_addr",
        existing_type=sa.String(length=1024),
        existing_nullable=True,
    )


def downgrade() -> None:
    op.alter_column(
        "scaling_groups",
        "app_proxy_addr",
        new_column_name="wsproxy_addr",
        existing_type=sa.String(length=1024),
        existing_nullable=True,
    )

"""Add TOTP to users

Revision ID: 396235c54252
Revises: cf5c9932a21a
Create Date: 2024-03-26 16:48:02.519847

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "396235c54252"
down_revision = "cf5c9932a21a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_key", sa.String(length=32), nullable=True))
    op.add_column(
        "users",
        sa.Column("totp_activated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "users", sa.Column("totp_activated_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("users", "totp_activated_at")
    op.drop_column("users", "totp_activated")
    op.drop_column("users", "totp_key")

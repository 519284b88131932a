"""Drop kernels.occupied_shares

Revision ID: cf5c9932a21a
Revises: 806a5e4b7fe3
Create Date: 2024-02-20 10:04:37.251118

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "cf5c9932a21a"
down_revision = "806a5e4b7fe3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("kernels", "occupied_shares")


def downgrade() -> None:
    op.add_column(
        "kernels",
        sa.Column(
            "occupied_shares",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )

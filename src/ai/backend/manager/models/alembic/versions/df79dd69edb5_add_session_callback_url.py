"""Add session callback URL

Revision ID: df79dd69edb5
Revises: 1f0718a17ef6
Create Date: 2024-07-09 14:11:26.448193

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "df79dd69edb5"
down_revision = "1f0718a17ef6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("callback_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    op.drop_column("sessions", "callback_url")

"""Add project type

Revision ID: 1f0718a17ef6
Revises: 396235c54252
Create Date: 2024-05-14 09:22:59.106372

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "1f0718a17ef6"
down_revision = "396235c54252"
branch_labels = None
depends_on = None

projecttype = postgresql.ENUM("general", "model-store", name="projecttype", create_type=False)


def upgrade() -> None:
    projecttype.create(op.get_bind())
    op.add_column(
        "groups", sa.Column("type", projecttype, server_default="general", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("groups", "type")
    projecttype.drop(op.get_bind())

"""Drop kernel role

Revision ID: b7c712b2e252
Revises: df0be1ef8827
Create Date: 2023-12-05 11:17:45.380552

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "b7c712b2e252"
down_revision = "df0be1ef8827"
branch_labels = None
depends_on = None

kernelrole = postgresql.ENUM("INFERENCE", "COMPUTE", "SYSTEM", name="kernelrole", create_type=False)


def upgrade() -> None:
    op.drop_column("kernels", "role")
    kernelrole.drop(op.get_bind())


def downgrade() -> None:
    kernelrole.create(op.get_bind())
    op.add_column(
        "kernels", sa.Column("role", kernelrole, server_default="COMPUTE", nullable=False)
    )

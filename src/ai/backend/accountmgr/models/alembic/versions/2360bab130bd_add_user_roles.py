"""Add user roles

Revision ID: 2360bab130bd
Revises: 7b5b2b943b56
Create Date: 2024-04-02 09:40:27.183364

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "2360bab130bd"
down_revision = "7b5b2b943b56"
branch_labels = None
depends_on = None

userrole = postgresql.ENUM("admin", "user", name="userrole", create_type=False)


def upgrade() -> None:
    userrole.create(op.get_bind())
    op.add_column("users", sa.Column("role", userrole, server_default="user", nullable=False))


def downgrade() -> None:
    op.drop_column("users", "role")
    userrole.drop(op.get_bind())

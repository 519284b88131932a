"""Widen keypairs.num_queries to bigint

Revision ID: eace797882f8
Revises: 98b085964505
Create Date: 2023-08-16 14:55:31.208436

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "eace797882f8"
down_revision = "98b085964505"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "keypairs",
        "num_queries",
        existing_type=sa.Integer(),
        type_=sa.BigInteger(),
        existing_nullable=True,
        existing_server_default=sa.text("0"),
    )


def downgrade() -> None:
    # Counters beyond the int range saturate instead of failing the downgrade.
    op.execute("UPDATE keypairs SET num_queries = 2147483647 WHERE num_queries > 2147483647")
    op.alter_column(
        "keypairs",
        "num_queries",
        existing_type=sa.BigInteger(),
        type_=sa.Integer(),
        existing_nullable=True,
        existing_server_default=sa.text("0"),
    )

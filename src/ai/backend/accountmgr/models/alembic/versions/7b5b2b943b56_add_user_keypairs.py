"""Add user keypairs

Revision ID: 7b5b2b943b56
Revises: 1532e3f065e6
Create Date: 2024-03-12 11:52:03.906551

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7b5b2b943b56"
down_revision = "1532e3f065e6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_keypairs",
        sa.Column("access_key", sa.String(length=20), nullable=False),
        sa.Column("secret_key", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.uuid"],
            name=op.f("fk_user_keypairs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("access_key", name=op.f("pk_user_keypairs")),
    )
    op.create_index(op.f("ix_user_keypairs_user_id"), "user_keypairs", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_user_keypairs_user_id"), table_name="user_keypairs")
    op.drop_table("user_keypairs")

"""Add tokens

Revision ID: a3388591ea72
Revises: a5999fa2157c
Create Date: 2024-02-20 10:12:36.418027

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3388591ea72"
down_revision = "a5999fa2157c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("login_session_token", sa.String(length=255), nullable=True),
        sa.Column("kernel_host", sa.String(length=255), nullable=False),
        sa.Column("kernel_port", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_uuid", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("access_key", sa.String(length=20), nullable=False),
        sa.Column("domain_name", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
    )
    op.create_index(op.f("ix_tokens_session_id"), "tokens", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tokens_session_id"), table_name="tokens")
    op.drop_table("tokens")

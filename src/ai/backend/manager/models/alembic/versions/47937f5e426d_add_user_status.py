"""Add user status

Revision ID: 47937f5e426d
Revises: 32a6cf7eca06
Create Date: 2023-03-22 17:03:44.318802

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "47937f5e426d"
down_revision = "32a6cf7eca06"
branch_labels = None
depends_on = None

userstatus = postgresql.ENUM(
    "active", "inactive", "deleted", "before-verification", name="userstatus", create_type=False
)


def upgrade() -> None:
    # The boolean users.is_active becomes a status enum (plus a free-form reason).
    userstatus.create(op.get_bind())
    op.add_column("users", sa.Column("status", userstatus, server_default="active", nullable=False))
    op.add_column("users", sa.Column("status_info", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE users SET status = CASE WHEN is_active THEN 'active'::userstatus"
        " ELSE 'inactive'::userstatus END"
    )
    op.create_index(op.f("ix_users_status"), "users", ["status"], unique=False)
    op.drop_column("users", "is_active")


def downgrade() -> None:
    op.add_column(
        "users",
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.execute("UPDATE users SET is_active = (status = 'active'::userstatus)")
    op.drop_index(op.f("ix_users_status"), table_name="users")
    op.drop_column("users", "status_info")
    op.drop_column("users", "status")
    userstatus.drop(op.get_bind())

"""Add PULLING to kernelstatus

Revision ID: 98b085964505
Revises: 97bf18bbfc12
Create Date: 2023-07-25 11:06:18.943275

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "98b085964505"
down_revision = "97bf18bbfc12"
branch_labels = None
depends_on = None

# kernelstatus without PULLING, as it was before this revision.
OLD_VALUES = (
    "PENDING",
    "SCHEDULED",
    "PREPARING",
    "BUILDING",
    "RUNNING",
    "RESTARTING",
    "RESIZING",
    "SUSPENDED",
    "TERMINATING",
    "TERMINATED",
    "ERROR",
    "CANCELLED",
)
UNIQUE_SESS_TOKEN_WHERE = "status NOT IN ('TERMINATED', 'CANCELLED') AND cluster_role = 'main'"


def upgrade() -> None:
    op.execute("ALTER TYPE kernelstatus ADD VALUE IF NOT EXISTS 'PULLING' AFTER 'PREPARING'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value: rebuild the type without it. Kernels that are
    # pulling their image go back to PREPARING. The partial index compares `status` with
    # constants of the type, so it is rebuilt around the swap.
    op.execute("UPDATE kernels SET status = 'PREPARING' WHERE status = 'PULLING'")
    op.drop_index("ix_kernels_unique_sess_token", table_name="kernels")
    op.execute("ALTER TYPE kernelstatus RENAME TO kernelstatus_old")
    values = ", ".join(f"'{value}'" for value in OLD_VALUES)
    op.execute(f"CREATE TYPE kernelstatus AS ENUM ({values})")
    op.execute("ALTER TABLE kernels ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "ALTER TABLE kernels ALTER COLUMN status TYPE kernelstatus"
        " USING status::text::kernelstatus"
    )
    op.execute("ALTER TABLE kernels ALTER COLUMN status SET DEFAULT 'PENDING'")
    op.execute("DROP TYPE kernelstatus_old")
    op.create_index(
        "ix_kernels_unique_sess_token",
        "kernels",
        ["access_key", "session_id"],
        unique=True,
        postgresql_where=sa.text(UNIQUE_SESS_TOKEN_WHERE),
    )

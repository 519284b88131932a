"""Add vfolder operation status

Revision ID: 2a42522c3a8a
Revises: e0fe1ca0e041
Create Date: 2023-09-19 16:44:09.517362

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "2a42522c3a8a"
down_revision = "e0fe1ca0e041"
branch_labels = None
depends_on = None

vfolderoperationstatus = postgresql.ENUM(
    "ready",
    "performing",
    "cloning",
    "delete-pending",
    "delete-ongoing",
    "delete-complete",
    "delete-error",
    name="vfolderoperationstatus",
    create_type=False,
)


def upgrade() -> None:
    vfolderoperationstatus.create(op.get_bind())
    op.add_column(
        "vfolders",
        sa.Column("status", vfolderoperationstatus, server_default="ready", nullable=False),
    )
    op.create_index(op.f("ix_vfolders_status"), "vfolders", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vfolders_status"), table_name="vfolders")
    op.drop_column("vfolders", "status")
    vfolderoperationstatus.drop(op.get_bind())

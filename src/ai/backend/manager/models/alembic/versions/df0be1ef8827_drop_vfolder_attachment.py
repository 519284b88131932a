"""Drop vfolder attachment

Revision ID: df0be1ef8827
Revises: ddc0ecaca3e9
Create Date: 2023-11-07 13:52:08.671429

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "df0be1ef8827"
down_revision = "ddc0ecaca3e9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Mounts are recorded on the sessions themselves; nothing reads this table any more.
    op.drop_table("vfolder_attachment")


def downgrade() -> None:
    op.create_table(
        "vfolder_attachment",
        sa.Column("vfolder", sa.Uuid(), nullable=False),
        sa.Column("kernel", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kernel"],
            ["kernels.id"],
            name=op.f("fk_vfolder_attachment_kernel_kernels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vfolder"],
            ["vfolders.id"],
            name=op.f("fk_vfolder_attachment_vfolder_vfolders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vfolder", "kernel", name=op.f("pk_vfolder_attachment")),
    )

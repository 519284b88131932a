"""Add vfolders

Revision ID: 32a6cf7eca06
Revises: dc2ee241ec3f
Create Date: 2023-03-08 10:51:29.604117

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "32a6cf7eca06"
down_revision = "dc2ee241ec3f"
branch_labels = None
depends_on = None

vfolderusagemode = postgresql.ENUM(
    "general", "model", "data", name="vfolderusagemode", create_type=False
)
vfolderpermission = postgresql.ENUM("ro", "rw", "wd", name="vfolderpermission", create_type=False)
vfolderownershiptype = postgresql.ENUM(
    "user", "group", name="vfolderownershiptype", create_type=False
)


def upgrade() -> None:
    bind = op.get_bind()
    for enum_type in (vfolderusagemode, vfolderpermission, vfolderownershiptype):
        enum_type.create(bind)
    op.create_table(
        "vfolders",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("host", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("usage_mode", vfolderusagemode, server_default="general", nullable=False),
        sa.Column("permission", vfolderpermission, server_default="rw", nullable=True),
        sa.Column("max_files", sa.Integer(), server_default="1000", nullable=False),
        sa.Column("max_size", sa.BigInteger(), nullable=True),
        sa.Column("num_files", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cur_size", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.Column("creator", sa.String(length=128), nullable=True),
        sa.Column("unmanaged_path", sa.String(length=512), nullable=True),
        sa.Column("ownership_type", vfolderownershiptype, server_default="user", nullable=False),
        sa.Column("user", sa.Uuid(), nullable=True),
        sa.Column("group", sa.Uuid(), nullable=True),
        sa.Column("cloneable", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["group"], ["groups.id"], name=op.f("fk_vfolders_group_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user"], ["users.uuid"], name=op.f("fk_vfolders_user_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vfolders")),
    )
    op.create_index(op.f("ix_vfolders_name"), "vfolders", ["name"], unique=False)
    op.create_index(
        op.f("ix_vfolders_ownership_type"), "vfolders", ["ownership_type"], unique=False
    )
    op.create_table(
        "vfolder_permissions",
        sa.Column("permission", vfolderpermission, server_default="rw", nullable=True),
        sa.Column("vfolder", sa.Uuid(), nullable=False),
        sa.Column("user", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user"],
            ["users.uuid"],
            name=op.f("fk_vfolder_permissions_user_users"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vfolder"],
            ["vfolders.id"],
            name=op.f("fk_vfolder_permissions_vfolder_vfolders"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "vfolder_invitations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("permission", vfolderpermission, server_default="rw", nullable=True),
        sa.Column("inviter", sa.String(length=256), nullable=True),
        sa.Column("invitee", sa.String(length=256), nullable=False),
        sa.Column("state", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("vfolder", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vfolder"],
            ["vfolders.id"],
            name=op.f("fk_vfolder_invitations_vfolder_vfolders"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vfolder_invitations")),
    )
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


def downgrade() -> None:
    op.drop_table("vfolder_attachment")
    op.drop_table("vfolder_invitations")
    op.drop_table("vfolder_permissions")
    op.drop_index(op.f("ix_vfolders_ownership_type"), table_name="vfolders")
    op.drop_index(op.f("ix_vfolders_name"), table_name="vfolders")
    op.drop_table("vfolders")
    bind = op.get_bind()
    for enum_type in (vfolderownershiptype, vfolderpermission, vfolderusagemode):
        enum_type.drop(bind)

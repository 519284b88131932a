"""Add model serving endpoints

Revision ID: 5b0e2be29bb4
Revises: e0fe1ca0e041
Create Date: 2023-09-21 10:58:42.180466

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "5b0e2be29bb4"
down_revision = "e0fe1ca0e041"
branch_labels = None
depends_on = None

lifecyclestage = postgresql.ENUM(
    "created", "destroying", "destroyed", name="lifecyclestage", create_type=False
)


def upgrade() -> None:
    lifecyclestage.create(op.get_bind())
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("created_user", sa.Uuid(), nullable=False),
        sa.Column("session_owner", sa.Uuid(), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("project", sa.Uuid(), nullable=False),
        sa.Column("resource_group", sa.String(length=64), nullable=False),
        sa.Column("model", sa.Uuid(), nullable=True),
        sa.Column(
            "model_mount_destination",
            sa.String(length=1024),
            server_default="/models",
            nullable=False,
        ),
        sa.Column("image", sa.Uuid(), nullable=True),
        sa.Column("replicas", sa.Integer(), server_default="0", nullable=False),
        sa.Column("resource_slots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "resource_opts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=True,
        ),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("open_to_public", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("lifecycle_stage", lifecyclestage, server_default="created", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retries", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["created_user"],
            ["users.uuid"],
            name=op.f("fk_endpoints_created_user_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["domain"],
            ["domains.name"],
            name=op.f("fk_endpoints_domain_domains"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image"], ["images.id"], name=op.f("fk_endpoints_image_images"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["model"],
            ["vfolders.id"],
            name=op.f("fk_endpoints_model_vfolders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project"],
            ["groups.id"],
            name=op.f("fk_endpoints_project_groups"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["resource_group"],
            ["scaling_groups.name"],
            name=op.f("fk_endpoints_resource_group_scaling_groups"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["session_owner"],
            ["users.uuid"],
            name=op.f("fk_endpoints_session_owner_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("name", name=op.f("uq_endpoints_name")),
    )
    op.create_index(
        op.f("ix_endpoints_resource_group"), "endpoints", ["resource_group"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_endpoints_resource_group"), table_name="endpoints")
    op.drop_table("endpoints")
    lifecyclestage.drop(op.get_bind())

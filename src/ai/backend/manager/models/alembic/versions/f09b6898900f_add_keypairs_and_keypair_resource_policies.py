"""Add keypairs and keypair resource policies

Revision ID: f09b6898900f
Revises: 69af10db4271
Create Date: 2023-01-24 16:40:12.093518

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "f09b6898900f"
down_revision = "69af10db4271"
branch_labels = None
depends_on = None

defaultforunspecified = postgresql.ENUM(
    "LIMITED", "UNLIMITED", name="defaultforunspecified", create_type=False
)


def upgrade() -> None:
    defaultforunspecified.create(op.get_bind())
    op.create_table(
        "keypair_resource_policies",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("default_for_unspecified", defaultforunspecified, nullable=False),
        sa.Column("total_resource_slots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("max_session_lifetime", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_concurrent_sessions", sa.Integer(), nullable=False),
        sa.Column("max_containers_per_session", sa.Integer(), nullable=False),
        sa.Column("idle_timeout", sa.BigInteger(), nullable=False),
        sa.Column(
            "allowed_vfolder_hosts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_keypair_resource_policies")),
    )
    op.create_table(
        "keypairs",
        sa.Column("user_id", sa.String(length=256), nullable=True),
        sa.Column("access_key", sa.String(length=20), nullable=False),
        sa.Column("secret_key", sa.String(length=40), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("num_queries", sa.Integer(), server_default="0", nullable=True),
        sa.Column("ssh_public_key", sa.Text(), nullable=True),
        sa.Column("ssh_private_key", sa.Text(), nullable=True),
        sa.Column("user", sa.Uuid(), nullable=True),
        sa.Column("resource_policy", sa.String(length=256), nullable=False),
        sa.Column("bootstrap_script", sa.String(length=64000), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_policy"],
            ["keypair_resource_policies.name"],
            name=op.f("fk_keypairs_resource_policy_keypair_resource_policies"),
        ),
        sa.ForeignKeyConstraint(
            ["user"], ["users.uuid"], name=op.f("fk_keypairs_user_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("access_key", name=op.f("pk_keypairs")),
    )
    op.create_index(op.f("ix_keypairs_is_active"), "keypairs", ["is_active"], unique=False)
    op.create_index(op.f("ix_keypairs_is_admin"), "keypairs", ["is_admin"], unique=False)
    op.create_index(op.f("ix_keypairs_user"), "keypairs", ["user"], unique=False)
    op.create_index(op.f("ix_keypairs_user_id"), "keypairs", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_keypairs_user_id"), table_name="keypairs")
    op.drop_index(op.f("ix_keypairs_user"), table_name="keypairs")
    op.drop_index(op.f("ix_keypairs_is_admin"), table_name="keypairs")
    op.drop_index(op.f("ix_keypairs_is_active"), table_name="keypairs")
    op.drop_table("keypairs")
    op.drop_table("keypair_resource_policies")
    defaultforunspecified.drop(op.get_bind())

"""Add scaling groups and agents

Revision ID: bae726851ea8
Revises: f09b6898900f
Create Date: 2023-02-07 09:15:48.220733

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "bae726851ea8"
down_revision = "f09b6898900f"
branch_labels = None
depends_on = None

agentstatus = postgresql.ENUM(
    "ALIVE", "LOST", "RESTARTING", "TERMINATED", name="agentstatus", create_type=False
)


def _scaling_group_column(table: str) -> list:
    return [
        sa.Column("scaling_group", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["scaling_group"],
            ["scaling_groups.name"],
            name=op.f(f"fk_{table}_scaling_group_scaling_groups"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    agentstatus.create(op.get_bind())
    op.create_table(
        "scaling_groups",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("wsproxy_addr", sa.String(length=1024), nullable=True),
        sa.Column("driver", sa.String(length=64), nullable=False),
        sa.Column(
            "driver_opts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("scheduler", sa.String(length=64), nullable=False),
        sa.Column(
            "scheduler_opts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scaling_groups")),
    )
    op.create_index(
        op.f("ix_scaling_groups_is_active"), "scaling_groups", ["is_active"], unique=False
    )
    op.create_table(
        "sgroups_for_domains",
        *_scaling_group_column("sgroups_for_domains"),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain"],
            ["domains.name"],
            name=op.f("fk_sgroups_for_domains_domain_domains"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("scaling_group", "domain", name="uq_sgroup_domain"),
    )
    op.create_table(
        "sgroups_for_groups",
        *_scaling_group_column("sgroups_for_groups"),
        sa.Column("group", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group"],
            ["groups.id"],
            name=op.f("fk_sgroups_for_groups_group_groups"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("scaling_group", "group", name="uq_sgroup_ugroup"),
    )
    op.create_table(
        "sgroups_for_keypairs",
        *_scaling_group_column("sgroups_for_keypairs"),
        sa.Column("access_key", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["access_key"],
            ["keypairs.access_key"],
            name=op.f("fk_sgroups_for_keypairs_access_key_keypairs"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("scaling_group", "access_key", name="uq_sgroup_akey"),
    )
    for table, column in (
        ("sgroups_for_domains", "domain"),
        ("sgroups_for_groups", "group"),
        ("sgroups_for_keypairs", "access_key"),
    ):
        op.create_index(op.f(f"ix_{table}_scaling_group"), table, ["scaling_group"], unique=False)
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("status", agentstatus, nullable=False),
        sa.Column("status_changed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("scaling_group", sa.String(length=64), nullable=False),
        sa.Column("schedulable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("available_slots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occupied_slots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("addr", sa.String(length=128), nullable=False),
        sa.Column(
            "first_contact",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("lost_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column(
            "compute_plugins",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["scaling_group"],
            ["scaling_groups.name"],
            name=op.f("fk_agents_scaling_group_scaling_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_index(op.f("ix_agents_region"), "agents", ["region"], unique=False)
    op.create_index(op.f("ix_agents_scaling_group"), "agents", ["scaling_group"], unique=False)
    op.create_index(op.f("ix_agents_status"), "agents", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_agents_status"), table_name="agents")
    op.drop_index(op.f("ix_agents_scaling_group"), table_name="agents")
    op.drop_index(op.f("ix_agents_region"), table_name="agents")
    op.drop_table("agents")
    op.drop_table("sgroups_for_keypairs")
    op.drop_table("sgroups_for_groups")
    op.drop_table("sgroups_for_domains")
    op.drop_index(op.f("ix_scaling_groups_is_active"), table_name="scaling_groups")
    op.drop_table("scaling_groups")
    agentstatus.drop(op.get_bind())

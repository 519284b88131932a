"""Add sessions and kernels

Revision ID: dc2ee241ec3f
Revises: bae726851ea8
Create Date: 2023-02-21 14:27:05.871264

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "dc2ee241ec3f"
down_revision = "bae726851ea8"
branch_labels = None
depends_on = None

sessionstatus = postgresql.ENUM(
    "PENDING",
    "SCHEDULED",
    "PREPARING",
    "RUNNING",
    "RESTARTING",
    "RUNNING_DEGRADED",
    "TERMINATING",
    "TERMINATED",
    "ERROR",
    "CANCELLED",
    name="sessionstatus",
    create_type=False,
)
sessiontypes = postgresql.ENUM(
    "INTERACTIVE", "BATCH", "INFERENCE", name="sessiontypes", create_type=False
)
sessionresult = postgresql.ENUM(
    "UNDEFINED", "SUCCESS", "FAILURE", name="sessionresult", create_type=False
)
kernelstatus = postgresql.ENUM(
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
    name="kernelstatus",
    create_type=False,
)
kernelrole = postgresql.ENUM("INFERENCE", "COMPUTE", "SYSTEM", name="kernelrole", create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    for enum_type in (sessionstatus, sessiontypes, sessionresult, kernelstatus, kernelrole):
        enum_type.create(bind)
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("creation_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("session_type", sessiontypes, server_default="INTERACTIVE", nullable=False),
        sa.Column(
            "cluster_mode", sa.String(length=16), server_default="single-node", nullable=False
        ),
        sa.Column("cluster_size", sa.Integer(), server_default="1", nullable=False),
        sa.Column("domain_name", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_uuid", sa.Uuid(), nullable=False),
        sa.Column("access_key", sa.String(length=20), nullable=True),
        sa.Column("scaling_group_name", sa.String(length=64), nullable=True),
        sa.Column("tag", sa.String(length=64), nullable=True),
        sa.Column("status", sessionstatus, server_default="PENDING", nullable=False),
        sa.Column("status_info", sa.String(length=64), nullable=True),
        sa.Column("status_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("result", sessionresult, server_default="UNDEFINED", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("occupying_slots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("requested_slots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("environ", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("depends_on", postgresql.ARRAY(sa.Uuid()), nullable=True),
        sa.ForeignKeyConstraint(
            ["access_key"],
            ["keypairs.access_key"],
            name=op.f("fk_sessions_access_key_keypairs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["domain_name"], ["domains.name"], name=op.f("fk_sessions_domain_name_domains")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_sessions_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["scaling_group_name"],
            ["scaling_groups.name"],
            name=op.f("fk_sessions_scaling_group_name_scaling_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["user_uuid"], ["users.uuid"], name=op.f("fk_sessions_user_uuid_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_created_at"), "sessions", ["created_at"], unique=False)
    op.create_index(op.f("ix_sessions_name"), "sessions", ["name"], unique=False)
    op.create_index(
        op.f("ix_sessions_scaling_group_name"), "sessions", ["scaling_group_name"], unique=False
    )
    op.create_index(op.f("ix_sessions_session_type"), "sessions", ["session_type"], unique=False)
    op.create_index(op.f("ix_sessions_status"), "sessions", ["status"], unique=False)
    op.create_index(op.f("ix_sessions_terminated_at"), "sessions", ["terminated_at"], unique=False)
    op.create_table(
        "kernels",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("session_creation_id", sa.String(length=32), nullable=True),
        sa.Column("cluster_role", sa.String(length=16), server_default="main", nullable=False),
        sa.Column("cluster_idx", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cluster_hostname", sa.String(length=64), nullable=False),
        sa.Column("role", kernelrole, server_default="COMPUTE", nullable=False),
        sa.Column("image", sa.String(length=512), nullable=True),
        sa.Column("architecture", sa.String(length=32), server_default="x86_64", nullable=False),
        sa.Column("registry", sa.String(length=512), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("agent_addr", sa.String(length=128), nullable=True),
        sa.Column("scaling_group", sa.String(length=64), nullable=True),
        sa.Column("container_id", sa.String(length=64), nullable=True),
        sa.Column("occupied_slots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "occupied_shares",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", kernelstatus, server_default="PENDING", nullable=False),
        sa.Column("status_changed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_info", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("access_key", sa.String(length=20), nullable=True),
        sa.Column("domain_name", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_uuid", sa.Uuid(), nullable=False),
        sa.Column("repl_in_port", sa.Integer(), nullable=False),
        sa.Column("repl_out_port", sa.Integer(), nullable=False),
        sa.Column("stdin_port", sa.Integer(), nullable=False),
        sa.Column("stdout_port", sa.Integer(), nullable=False),
        sa.Column("service_ports", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["access_key"], ["keypairs.access_key"], name=op.f("fk_kernels_access_key_keypairs")
        ),
        sa.ForeignKeyConstraint(["agent"], ["agents.id"], name=op.f("fk_kernels_agent_agents")),
        sa.ForeignKeyConstraint(
            ["domain_name"], ["domains.name"], name=op.f("fk_kernels_domain_name_domains")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_kernels_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["scaling_group"],
            ["scaling_groups.name"],
            name=op.f("fk_kernels_scaling_group_scaling_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_kernels_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_uuid"], ["users.uuid"], name=op.f("fk_kernels_user_uuid_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernels")),
    )
    op.create_index(op.f("ix_kernels_agent"), "kernels", ["agent"], unique=False)
    op.create_index(op.f("ix_kernels_created_at"), "kernels", ["created_at"], unique=False)
    op.create_index(op.f("ix_kernels_scaling_group"), "kernels", ["scaling_group"], unique=False)
    op.create_index(op.f("ix_kernels_session_id"), "kernels", ["session_id"], unique=False)
    op.create_index(op.f("ix_kernels_status"), "kernels", ["status"], unique=False)
    op.create_index(op.f("ix_kernels_terminated_at"), "kernels", ["terminated_at"], unique=False)
    op.create_index("ix_kernels_status_role", "kernels", ["status", "cluster_role"], unique=False)
    op.create_index(
        "ix_kernels_unique_sess_token",
        "kernels",
        ["access_key", "session_id"],
        unique=True,
        postgresql_where=sa.text(
            "status NOT IN ('TERMINATED', 'CANCELLED') AND cluster_role = 'main'"
        ),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_kernels_unique_sess_token",
        table_name="kernels",
        postgresql_where=sa.text(
            "status NOT IN ('TERMINATED', 'CANCELLED') AND cluster_role = 'main'"
        ),
    )
    op.drop_index("ix_kernels_status_role", table_name="kernels")
    op.drop_index(op.f("ix_kernels_terminated_at"), table_name="kernels")
    op.drop_index(op.f("ix_kernels_status"), table_name="kernels")
    op.drop_index(op.f("ix_kernels_session_id"), table_name="kernels")
    op.drop_index(op.f("ix_kernels_scaling_group"), table_name="kernels")
    op.drop_index(op.f("ix_kernels_created_at"), table_name="kernels")
    op.drop_index(op.f("ix_kernels_agent"), table_name="kernels")
    op.drop_table("kernels")
    op.drop_index(op.f("ix_sessions_terminated_at"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_status"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_session_type"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_scaling_group_name"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_name"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_created_at"), table_name="sessions")
    op.drop_table("sessions")
    bind = op.get_bind()
    for enum_type in (kernelrole, kernelstatus, sessionresult, sessiontypes, sessionstatus):
        enum_type.drop(bind)

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import created_at_column, id_column, json_column, metadata


class KernelStatus(enum.Enum):
    PENDING = 0
    SCHEDULED = 5
    PREPARING = 10
    PULLING = 11
    BUILDING = 20
    RUNNING = 30
    RESTARTING = 31
    RESIZING = 32
    SUSPENDED = 33
    TERMINATING = 40
    TERMINATED = 41
    ERROR = 42
    CANCELLED = 43


kernels = sa.Table(
    "kernels",
    metadata,
    id_column(),
    sa.Column(
        "session_id",
        sa.Uuid,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("session_creation_id", sa.String(length=32)),
    sa.Column("cluster_role", sa.String(length=16), nullable=False, server_default="main"),
    sa.Column("cluster_idx", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cluster_hostname", sa.String(length=64), nullable=False),
    sa.Column("image", sa.String(length=512)),
    sa.Column("architecture", sa.String(length=32), nullable=False, server_default="x86_64"),
    sa.Column("registry", sa.String(length=512)),
    sa.Column("agent", sa.String(length=64), sa.ForeignKey("agents.id"), index=True),
    sa.Column("agent_addr", sa.String(length=128)),
    sa.Column(
        "scaling_group", sa.String(length=64), sa.ForeignKey("scaling_groups.name"), index=True
    ),
    sa.Column("container_id", sa.String(length=64)),
    json_column("occupied_slots", default=None),
    sa.Column(
        "status",
        sa.Enum(KernelStatus, name="kernelstatus"),
        nullable=False,
        server_default=KernelStatus.PENDING.name,
        index=True,
    ),
    sa.Column("status_changed", sa.DateTime(timezone=True)),
    sa.Column("status_info", sa.String(length=64)),
    sa.Column("status_history", postgresql.JSONB),
    created_at_column(index=True),
    sa.Column("terminated_at", sa.DateTime(timezone=True), index=True),
    sa.Column("access_key", sa.String(length=20), sa.ForeignKey("keypairs.access_key")),
    sa.Column("domain_name", sa.String(length=64), sa.ForeignKey("domains.name"), nullable=False),
    sa.Column("group_id", sa.Uuid, sa.ForeignKey("groups.id"), nullable=False),
    sa.Column("user_uuid", sa.Uuid, sa.ForeignKey("users.uuid"), nullable=False),
    sa.Column("repl_in_port", sa.Integer, nullable=False),
    sa.Column("repl_out_port", sa.Integer, nullable=False),
    sa.Column("stdin_port", sa.Integer, nullable=False),
    sa.Column("stdout_port", sa.Integer, nullable=False),
    sa.Column("service_ports", postgresql.JSONB),
    # At most one live main kernel per (access key, session).
    sa.Index(
        "ix_kernels_unique_sess_token",
        "access_key",
        "session_id",
        unique=True,
        postgresql_where=sa.text(
            "status NOT IN ('TERMINATED', 'CANCELLED') AND cluster_role = 'main'"
        ),
    ),
    sa.Index("ix_kernels_status_role", "status", "cluster_role"),
)

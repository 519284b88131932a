from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import created_at_column, id_column, json_column, metadata


class SessionStatus(enum.Enum):
    PENDING = 0
    SCHEDULED = 5
    PREPARING = 10
    RUNNING = 30
    RESTARTING = 31
    RUNNING_DEGRADED = 32
    TERMINATING = 40
    TERMINATED = 41
    ERROR = 42
    CANCELLED = 43


class SessionTypes(enum.Enum):
    INTERACTIVE = "interactive"
    BATCH = "batch"
    INFERENCE = "inference"


class SessionResult(enum.Enum):
    UNDEFINED = "undefined"
    SUCCESS = "success"
    FAILURE = "failure"


sessions = sa.Table(
    "sessions",
    metadata,
    id_column(),
    sa.Column("creation_id", sa.String(length=32)),
    sa.Column("name", sa.String(length=64), index=True),
    sa.Column(
        "session_type",
        sa.Enum(SessionTypes, name="sessiontypes"),
        nullable=False,
        server_default=SessionTypes.INTERACTIVE.name,
        index=True,
    ),
    sa.Column("cluster_mode", sa.String(length=16), nullable=False, server_default="single-node"),
    sa.Column("cluster_size", sa.Integer, nullable=False, server_default="1"),
    sa.Column("domain_name", sa.String(length=64), sa.ForeignKey("domains.name"), nullable=False),
    sa.Column("group_id", sa.Uuid, sa.ForeignKey("groups.id"), nullable=False),
    sa.Column("user_uuid", sa.Uuid, sa.ForeignKey("users.uuid"), nullable=False),
    sa.Column(
        "access_key",
        sa.String(length=20),
        sa.ForeignKey("keypairs.access_key", ondelete="SET NULL"),
    ),
    sa.Column(
        "scaling_group_name", sa.String(length=64), sa.ForeignKey("scaling_groups.name"), index=True
    ),
    sa.Column("tag", sa.String(length=64)),
    sa.Column(
        "status",
        sa.Enum(SessionStatus, name="sessionstatus"),
        nullable=False,
        server_default=SessionStatus.PENDING.name,
        index=True,
    ),
    sa.Column("status_info", sa.String(length=64)),
    sa.Column("status_data", postgresql.JSONB),
    sa.Column("status_history", postgresql.JSONB),
    sa.Column(
        "result",
        sa.Enum(SessionResult, name="sessionresult"),
        nullable=False,
        server_default=SessionResult.UNDEFINED.name,
    ),
    sa.Column("priority", sa.Integer, nullable=False, server_default="10"),
    created_at_column(index=True),
    sa.Column("terminated_at", sa.DateTime(timezone=True), index=True),
    sa.Column("starts_at", sa.DateTime(timezone=True)),
    json_column("occupying_slots", default=None),
    json_column("requested_slots", default=None),
    sa.Column("environ", postgresql.JSONB),
    sa.Column("callback_url", sa.String(length=2048)),
    sa.Index("ix_sessions_status_priority", "status", "priority"),
)

session_dependencies = sa.Table(
    "session_dependencies",
    metadata,
    sa.Column(
        "session_id",
        sa.Uuid,
        sa.ForeignKey("sessions.id", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "depends_on",
        sa.Uuid,
        sa.ForeignKey("sessions.id", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

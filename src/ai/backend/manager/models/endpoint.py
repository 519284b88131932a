from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import created_at_column, enum_by_value, id_column, json_column, metadata


class EndpointLifecycle(enum.StrEnum):
    CREATED = "created"
    DESTROYING = "destroying"
    DESTROYED = "destroyed"


class RouteStatus(enum.StrEnum):
    PROVISIONING = "provisioning"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    TERMINATING = "terminating"
    FAILED_TO_START = "failed_to_start"


endpoints = sa.Table(
    "endpoints",
    metadata,
    id_column(),
    sa.Column("name", sa.String(length=256), nullable=False, unique=True),
    sa.Column(
        "created_user", sa.Uuid, sa.ForeignKey("users.uuid", ondelete="RESTRICT"), nullable=False
    ),
    sa.Column(
        "session_owner", sa.Uuid, sa.ForeignKey("users.uuid", ondelete="RESTRICT"), nullable=False
    ),
    sa.Column(
        "domain",
        sa.String(length=64),
        sa.ForeignKey("domains.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("project", sa.Uuid, sa.ForeignKey("groups.id", ondelete="RESTRICT"), nullable=False),
    sa.Column(
        "resource_group",
        sa.String(length=64),
        sa.ForeignKey("scaling_groups.name", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    sa.Column("model", sa.Uuid, sa.ForeignKey("vfolders.id", ondelete="SET NULL")),
    sa.Column(
        "model_mount_destination",
        sa.String(length=1024),
        nullable=False,
        server_default="/models",
    ),
    sa.Column("image", sa.Uuid, sa.ForeignKey("images.id", ondelete="RESTRICT")),
    sa.Column("replicas", sa.Integer, nullable=False, server_default="0"),
    json_column("resource_slots", default=None),
    json_column("resource_opts", nullable=True),
    sa.Column("url", sa.String(length=1024)),
    sa.Column("open_to_public", sa.Boolean, server_default=sa.false()),
    sa.Column(
        "lifecycle_stage",
        enum_by_value(EndpointLifecycle, "lifecyclestage"),
        nullable=False,
        server_default=EndpointLifecycle.CREATED.value,
    ),
    created_at_column(),
    sa.Column("destroyed_at", sa.DateTime(timezone=True)),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
)

routings = sa.Table(
    "routings",
    metadata,
    id_column(),
    sa.Column(
        "endpoint",
        sa.Uuid,
        sa.ForeignKey("endpoints.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("session", sa.Uuid, sa.ForeignKey("sessions.id", ondelete="RESTRICT")),
    sa.Column(
        "session_owner", sa.Uuid, sa.ForeignKey("users.uuid", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "domain",
        sa.String(length=64),
        sa.ForeignKey("domains.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("project", sa.Uuid, sa.ForeignKey("groups.id", ondelete="RESTRICT"), nullable=False),
    sa.Column(
        "status",
        enum_by_value(RouteStatus, "routestatus"),
        nullable=False,
        server_default=RouteStatus.PROVISIONING.value,
    ),
    sa.Column("traffic_ratio", postgresql.DOUBLE_PRECISION, nullable=False),
    created_at_column(),
)

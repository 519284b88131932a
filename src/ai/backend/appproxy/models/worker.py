from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import created_at_column, enum_by_value, id_column, metadata


class FrontendMode(enum.StrEnum):
    WILDCARD_DOMAIN = "wildcard"
    PORT = "port"


class WorkerStatus(enum.StrEnum):
    ALIVE = "alive"
    LOST = "lost"


workers = sa.Table(
    "workers",
    metadata,
    id_column(),
    sa.Column("authority", sa.String(length=512), nullable=False, unique=True),
    sa.Column("frontend_mode", enum_by_value(FrontendMode, "frontendmode"), nullable=False),
    sa.Column("protocol", sa.String(length=16), nullable=False, server_default="http"),
    sa.Column("hostname", sa.String(length=1024), nullable=False),
    sa.Column("use_tls", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("api_port", sa.Integer, nullable=False),
    sa.Column("port_range_start", sa.Integer),
    sa.Column("port_range_end", sa.Integer),
    sa.Column("wildcard_domain", sa.String(length=1024)),
    sa.Column("filtered_apps_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column(
        "accepted_traffics",
        postgresql.ARRAY(sa.String),
        nullable=False,
        server_default=sa.text("'{interactive,inference}'::varchar[]"),
    ),
    sa.Column(
        "status",
        enum_by_value(WorkerStatus, "workerstatus"),
        nullable=False,
        server_default=WorkerStatus.ALIVE.value,
        index=True,
    ),
    sa.Column("nodes", sa.Integer, nullable=False, server_default="1"),
    created_at_column(),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
)

worker_app_filters = sa.Table(
    "worker_app_filters",
    metadata,
    id_column(),
    sa.Column(
        "worker_id",
        sa.Uuid,
        sa.ForeignKey("workers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("property_name", sa.String(length=64), nullable=False),
    sa.Column("property_value", sa.String(length=64), nullable=False),
    sa.UniqueConstraint(
        "worker_id", "property_name", "property_value", name="uq_worker_app_filters_property"
    ),
)

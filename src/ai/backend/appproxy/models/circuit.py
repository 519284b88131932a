from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import created_at_column, enum_by_value, id_column, metadata
from .worker import FrontendMode


class AppMode(enum.StrEnum):
    INTERACTIVE = "interactive"
    INFERENCE = "inference"


class ProxyProtocol(enum.StrEnum):
    HTTP = "http"
    GRPC = "grpc"
    H2 = "h2"
    TCP = "tcp"
    PREOPEN = "preopen"


endpoints = sa.Table(
    "endpoints",
    metadata,
    # The manager's endpoint id: no server-side default.
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("health_check_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("health_check_config", postgresql.JSONB),
    created_at_column(),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
)

circuits = sa.Table(
    "circuits",
    metadata,
    id_column(),
    sa.Column("app", sa.String(length=255), nullable=False),
    sa.Column("protocol", enum_by_value(ProxyProtocol, "proxyprotocol"), nullable=False),
    sa.Column(
        "worker",
        sa.Uuid,
        sa.ForeignKey("workers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("app_mode", enum_by_value(AppMode, "appmode"), nullable=False),
    sa.Column("frontend_mode", enum_by_value(FrontendMode, "frontendmode"), nullable=False),
    sa.Column("envs", postgresql.JSONB),
    sa.Column("arguments", sa.String),
    sa.Column("open_to_public", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("allowed_client_ips", sa.String),
    sa.Column("port", sa.Integer),
    sa.Column("subdomain", sa.String(length=255)),
    sa.Column("user_id", sa.Uuid),
    sa.Column("access_key", sa.String(length=20)),
    sa.Column(
        "endpoint_id",
        sa.Uuid,
        sa.ForeignKey("endpoints.id", ondelete="SET NULL"),
        index=True,
    ),
    sa.Column(
        "session_ids",
        postgresql.ARRAY(sa.Uuid),
        nullable=False,
        server_default=sa.text("'{}'::uuid[]"),
    ),
    sa.Column(
        "route_info", postgresql.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")
    ),
    sa.Column("last_access_at", sa.DateTime(timezone=True)),
    created_at_column(),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    # A worker's port and a wildcard subdomain each serve at most one circuit.
    sa.Index(
        "ix_circuits_worker_port",
        "worker",
        "port",
        unique=True,
        postgresql_where=sa.text("port IS NOT NULL"),
    ),
    sa.Index(
        "ix_circuits_worker_subdomain",
        "worker",
        "subdomain",
        unique=True,
        postgresql_where=sa.text("subdomain IS NOT NULL"),
    ),
)

tokens = sa.Table(
    "tokens",
    metadata,
    id_column(),
    sa.Column("kernel_host", sa.String(length=255), nullable=False),
    sa.Column("kernel_port", sa.Integer, nullable=False),
    sa.Column("session_id", sa.Uuid, nullable=False, index=True),
    sa.Column("user_uuid", sa.Uuid, nullable=False),
    sa.Column("group_id", sa.Uuid, nullable=False),
    sa.Column("access_key", sa.String(length=20), nullable=False),
    sa.Column("domain_name", sa.String(length=64), nullable=False),
    created_at_column(),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
)

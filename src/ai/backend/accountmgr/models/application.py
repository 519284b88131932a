from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import created_at_column, id_column, metadata

applications = sa.Table(
    "applications",
    metadata,
    id_column(),
    sa.Column("name", sa.String(length=64), nullable=False, unique=True),
    sa.Column("description", sa.String(length=512)),
    sa.Column("redirect_uri", sa.String(length=512)),
    sa.Column(
        "scopes",
        postgresql.ARRAY(sa.String),
        nullable=False,
        server_default=sa.text("'{}'::varchar[]"),
    ),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    created_at_column(),
)

association_applications_users = sa.Table(
    "association_applications_users",
    metadata,
    sa.Column(
        "application_id",
        sa.Uuid,
        sa.ForeignKey("applications.id", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "user_id",
        sa.Uuid,
        sa.ForeignKey("users.uuid", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    ),
)

login_sessions = sa.Table(
    "login_sessions",
    metadata,
    id_column(),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.uuid", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "application_id",
        sa.Uuid,
        sa.ForeignKey("applications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("token_hash", sa.String(length=128), nullable=False, unique=True),
    created_at_column(),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True)),
    sa.Index("ix_login_sessions_user_id_expires_at", "user_id", "expires_at"),
)

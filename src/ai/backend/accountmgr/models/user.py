from __future__ import annotations

import enum

import sqlalchemy as sa

from .base import created_at_column, enum_by_value, metadata


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"
    BEFORE_VERIFICATION = "before-verification"


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    USER = "user"


users = sa.Table(
    "users",
    metadata,
    sa.Column("uuid", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("username", sa.String(length=64), nullable=False, index=True, unique=True),
    sa.Column("email", sa.String(length=64), nullable=False, index=True),
    sa.Column("password", sa.String(length=128)),
    sa.Column(
        "status",
        enum_by_value(UserStatus, "userstatus"),
        nullable=False,
        server_default=UserStatus.ACTIVE.value,
    ),
    sa.Column(
        "role",
        enum_by_value(UserRole, "userrole"),
        nullable=False,
        server_default=UserRole.USER.value,
    ),
    created_at_column(),
    sa.Column("modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
)

user_keypairs = sa.Table(
    "user_keypairs",
    metadata,
    sa.Column("access_key", sa.String(length=20), primary_key=True),
    sa.Column("secret_key", sa.String(length=40), nullable=False),
    sa.Column(
        "user_id",
        sa.Uuid,
        sa.ForeignKey("users.uuid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    created_at_column(),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
)

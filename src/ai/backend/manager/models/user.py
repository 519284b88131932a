from __future__ import annotations

import enum

import sqlalchemy as sa

from .base import created_at_column, enum_by_value, metadata


class UserRole(enum.StrEnum):
    SUPERADMIN = "superadmin"
    ADMIN = "admin"
    USER = "user"
    MONITOR = "monitor"


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"
    BEFORE_VERIFICATION = "before-verification"


users = sa.Table(
    "users",
    metadata,
    sa.Column("uuid", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("username", sa.String(length=64), index=True, unique=True),
    sa.Column("email", sa.String(length=64), nullable=False, index=True),
    sa.Column("password", sa.String(length=128)),
    sa.Column("need_password_change", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("full_name", sa.String(length=64)),
    sa.Column("description", sa.String(length=500)),
    sa.Column(
        "status",
        enum_by_value(UserStatus, "userstatus"),
        nullable=False,
        server_default=UserStatus.ACTIVE.value,
        index=True,
    ),
    sa.Column("status_info", sa.String(length=64)),
    created_at_column(),
    sa.Column("modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("domain_name", sa.String(length=64), sa.ForeignKey("domains.name"), index=True),
    sa.Column(
        "role",
        enum_by_value(UserRole, "userrole"),
        nullable=False,
        server_default=UserRole.USER.value,
    ),
    sa.Column(
        "resource_policy",
        sa.String(length=256),
        sa.ForeignKey("user_resource_policies.name"),
        nullable=False,
        server_default="default",
    ),
    sa.Column("totp_key", sa.String(length=32)),
    sa.Column("totp_activated", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("totp_activated_at", sa.DateTime(timezone=True)),
)

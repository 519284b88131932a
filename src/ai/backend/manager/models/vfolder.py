from __future__ import annotations

import enum

import sqlalchemy as sa

from .base import created_at_column, enum_by_value, id_column, metadata


class VFolderUsageMode(enum.StrEnum):
    GENERAL = "general"
    MODEL = "model"
    DATA = "data"


class VFolderPermission(enum.StrEnum):
    READ_ONLY = "ro"
    READ_WRITE = "rw"
    RW_DELETE = "wd"


class VFolderOwnershipType(enum.StrEnum):
    USER = "user"
    GROUP = "group"


class VFolderOperationStatus(enum.StrEnum):
    READY = "ready"
    PERFORMING = "performing"
    CLONING = "cloning"
    DELETE_PENDING = "delete-pending"
    DELETE_ONGOING = "delete-ongoing"
    DELETE_COMPLETE = "delete-complete"
    DELETE_ERROR = "delete-error"


def _permission_column() -> sa.Column:
    return sa.Column(
        "permission",
        enum_by_value(VFolderPermission, "vfolderpermission"),
        server_default=VFolderPermission.READ_WRITE.value,
    )


vfolders = sa.Table(
    "vfolders",
    metadata,
    id_column(),
    sa.Column("host", sa.String(length=128), nullable=False),
    sa.Column("quota_scope_id", sa.String(length=512)),
    sa.Column("name", sa.String(length=64), nullable=False, index=True),
    sa.Column(
        "usage_mode",
        enum_by_value(VFolderUsageMode, "vfolderusagemode"),
        nullable=False,
        server_default=VFolderUsageMode.GENERAL.value,
    ),
    _permission_column(),
    sa.Column("max_files", sa.Integer, nullable=False, server_default="1000"),
    sa.Column("max_size", sa.BigInteger),
    sa.Column("num_files", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cur_size", sa.BigInteger, nullable=False, server_default="0"),
    created_at_column(),
    sa.Column("last_used", sa.DateTime(timezone=True)),
    sa.Column("creator", sa.String(length=128)),
    sa.Column("unmanaged_path", sa.String(length=512)),
    sa.Column(
        "ownership_type",
        enum_by_value(VFolderOwnershipType, "vfolderownershiptype"),
        nullable=False,
        server_default=VFolderOwnershipType.USER.value,
        index=True,
    ),
    sa.Column("user", sa.Uuid, sa.ForeignKey("users.uuid", ondelete="CASCADE")),
    sa.Column("group", sa.Uuid, sa.ForeignKey("groups.id", ondelete="CASCADE")),
    sa.Column("cloneable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column(
        "status",
        enum_by_value(VFolderOperationStatus, "vfolderoperationstatus"),
        nullable=False,
        server_default=VFolderOperationStatus.READY.value,
        index=True,
    ),
)

vfolder_permissions = sa.Table(
    "vfolder_permissions",
    metadata,
    _permission_column(),
    sa.Column(
        "vfolder",
        sa.Uuid,
        sa.ForeignKey("vfolders.id", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "user",
        sa.Uuid,
        sa.ForeignKey("users.uuid", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
)

vfolder_invitations = sa.Table(
    "vfolder_invitations",
    metadata,
    id_column(),
    _permission_column(),
    sa.Column("inviter", sa.String(length=256)),
    sa.Column("invitee", sa.String(length=256), nullable=False),
    sa.Column("state", sa.String(length=10), nullable=False, server_default="pending"),
    created_at_column(),
    sa.Column("modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column(
        "vfolder",
        sa.Uuid,
        sa.ForeignKey("vfolders.id", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
)

from __future__ import annotations

import enum

import sqlalchemy as sa

from .base import created_at_column, enum_by_value, id_column, json_column, metadata


class ProjectType(enum.StrEnum):
    GENERAL = "general"
    MODEL_STORE = "model-store"


groups = sa.Table(
    "groups",
    metadata,
    id_column(),
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("description", sa.String(length=512)),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    created_at_column(),
    sa.Column("modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("integration_id", sa.String(length=512)),
    sa.Column(
        "domain_name",
        sa.String(length=64),
        sa.ForeignKey("domains.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    json_column("total_resource_slots"),
    json_column("allowed_vfolder_hosts"),
    sa.Column(
        "resource_policy",
        sa.String(length=256),
        sa.ForeignKey("project_resource_policies.name"),
        nullable=False,
        server_default="default",
    ),
    sa.Column(
        "type",
        enum_by_value(ProjectType, "projecttype"),
        nullable=False,
        server_default=ProjectType.GENERAL.value,
    ),
    sa.UniqueConstraint("name", "domain_name", name="uq_groups_name_domain_name"),
)

association_groups_users = sa.Table(
    "association_groups_users",
    metadata,
    sa.Column(
        "user_id",
        sa.Uuid,
        sa.ForeignKey("users.uuid", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "group_id",
        sa.Uuid,
        sa.ForeignKey("groups.id", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.UniqueConstraint("user_id", "group_id", name="uq_association_user_id_group_id"),
)

from __future__ import annotations

import enum

import sqlalchemy as sa

from .base import created_at_column, json_column, metadata


class DefaultForUnspecified(enum.Enum):
    LIMITED = 0
    UNLIMITED = 1


keypair_resource_policies = sa.Table(
    "keypair_resource_policies",
    metadata,
    sa.Column("name", sa.String(length=256), primary_key=True),
    created_at_column(),
    sa.Column(
        "default_for_unspecified",
        sa.Enum(DefaultForUnspecified, name="defaultforunspecified"),
        nullable=False,
    ),
    json_column("total_resource_slots", default=None),
    sa.Column("max_session_lifetime", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_concurrent_sessions", sa.Integer, nullable=False),
    sa.Column("max_containers_per_session", sa.Integer, nullable=False),
    sa.Column("idle_timeout", sa.BigInteger, nullable=False),
    json_column("allowed_vfolder_hosts"),
)

user_resource_policies = sa.Table(
    "user_resource_policies",
    metadata,
    sa.Column("name", sa.String(length=256), primary_key=True),
    created_at_column(),
    sa.Column("max_vfolder_count", sa.Integer, nullable=False),
    sa.Column("max_quota_scope_size", sa.BigInteger, nullable=False),
    sa.Column("max_session_count_per_model_session", sa.Integer, nullable=False),
    sa.Column("max_customized_image_count", sa.Integer, nullable=False, server_default="3"),
)

project_resource_policies = sa.Table(
    "project_resource_policies",
    metadata,
    sa.Column("name", sa.String(length=256), primary_key=True),
    created_at_column(),
    sa.Column("max_vfolder_count", sa.Integer, nullable=False),
    sa.Column("max_quota_scope_size", sa.BigInteger, nullable=False),
    sa.Column("max_network_count", sa.Integer, nullable=False, server_default="3"),
)

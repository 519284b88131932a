from __future__ import annotations

import sqlalchemy as sa

from .base import created_at_column, json_column, metadata

scaling_groups = sa.Table(
    "scaling_groups",
    metadata,
    sa.Column("name", sa.String(length=64), primary_key=True),
    sa.Column("description", sa.String(length=512)),
    sa.Column("is_active", sa.Boolean, index=True, server_default=sa.true()),
    sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.true()),
    created_at_column(),
    sa.Column("app_proxy_addr", sa.String(length=1024)),
    sa.Column("driver", sa.String(length=64), nullable=False),
    json_column("driver_opts"),
    sa.Column("scheduler", sa.String(length=64), nullable=False),
    json_column("scheduler_opts"),
)


def _scaling_group_column() -> sa.Column:
    return sa.Column(
        "scaling_group",
        sa.String(length=64),
        sa.ForeignKey("scaling_groups.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


sgroups_for_domains = sa.Table(
    "sgroups_for_domains",
    metadata,
    _scaling_group_column(),
    sa.Column(
        "domain",
        sa.String(length=64),
        sa.ForeignKey("domains.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("scaling_group", "domain", name="uq_sgroup_domain"),
)

sgroups_for_groups = sa.Table(
    "sgroups_for_groups",
    metadata,
    _scaling_group_column(),
    sa.Column(
        "group",
        sa.Uuid,
        sa.ForeignKey("groups.id", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("scaling_group", "group", name="uq_sgroup_ugroup"),
)

sgroups_for_keypairs = sa.Table(
    "sgroups_for_keypairs",
    metadata,
    _scaling_group_column(),
    sa.Column(
        "access_key",
        sa.String(length=20),
        sa.ForeignKey("keypairs.access_key", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("scaling_group", "access_key", name="uq_sgroup_akey"),
)

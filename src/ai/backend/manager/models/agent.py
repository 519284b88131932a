from __future__ import annotations

import enum

import sqlalchemy as sa

from .base import json_column, metadata


class AgentStatus(enum.Enum):
    ALIVE = 0
    LOST = 1
    RESTARTING = 2
    TERMINATED = 3


agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.String(length=64), primary_key=True),
    sa.Column("status", sa.Enum(AgentStatus, name="agentstatus"), nullable=False, index=True),
    sa.Column("status_changed", sa.DateTime(timezone=True)),
    sa.Column("region", sa.String(length=64), nullable=False, index=True),
    sa.Column(
        "scaling_group",
        sa.String(length=64),
        sa.ForeignKey("scaling_groups.name"),
        nullable=False,
        index=True,
    ),
    sa.Column("schedulable", sa.Boolean, nullable=False, server_default=sa.true()),
    json_column("available_slots", default=None),
    json_column("occupied_slots", default=None),
    sa.Column("addr", sa.String(length=128), nullable=False),
    sa.Column("architecture", sa.String(length=32), nullable=False, server_default="x86_64"),
    sa.Column("first_contact", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("lost_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.String(length=64), nullable=False),
    json_column("compute_plugins"),
)

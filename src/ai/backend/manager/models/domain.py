from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import created_at_column, json_column, metadata

domains = sa.Table(
    "domains",
    metadata,
    sa.Column("name", sa.String(length=64), primary_key=True),
    sa.Column("description", sa.String(length=512)),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    created_at_column(),
    sa.Column("modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    json_column("total_resource_slots"),
    json_column("allowed_vfolder_hosts"),
    sa.Column(
        "allowed_docker_registries",
        postgresql.ARRAY(sa.String),
        nullable=False,
        server_default=sa.text("'{}'::varchar[]"),
    ),
    sa.Column("integration_id", sa.String(length=512)),
)

from __future__ import annotations

import sqlalchemy as sa

from .base import created_at_column, metadata

keypairs = sa.Table(
    "keypairs",
    metadata,
    sa.Column("user_id", sa.String(length=256), index=True),
    sa.Column("access_key", sa.String(length=20), primary_key=True),
    sa.Column("secret_key", sa.String(length=40)),
    sa.Column("is_active", sa.Boolean, index=True),
    sa.Column("is_admin", sa.Boolean, index=True, server_default=sa.false()),
    created_at_column(),
    sa.Column("modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("last_used", sa.DateTime(timezone=True)),
    sa.Column("rate_limit", sa.Integer),
    sa.Column("num_queries", sa.BigInteger, server_default="0"),
    sa.Column("ssh_public_key", sa.Text),
    sa.Column("ssh_private_key", sa.Text),
    sa.Column("user", sa.Uuid, sa.ForeignKey("users.uuid", ondelete="CASCADE"), index=True),
    sa.Column(
        "resource_policy",
        sa.String(length=256),
        sa.ForeignKey("keypair_resource_policies.name"),
        nullable=False,
    ),
    sa.Column("bootstrap_script", sa.String(length=64000), nullable=False, server_default=""),
)

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .base import enum_by_value, id_column, json_column, metadata


class ContainerRegistryType(enum.StrEnum):
    DOCKER = "docker"
    HARBOR = "harbor"
    HARBOR2 = "harbor2"


class ImageType(enum.Enum):
    COMPUTE = "compute"
    SYSTEM = "system"
    SERVICE = "service"


container_registries = sa.Table(
    "container_registries",
    metadata,
    id_column(),
    sa.Column("url", sa.String(length=512), nullable=False, index=True),
    sa.Column("registry_name", sa.String(length=50), nullable=False, index=True),
    sa.Column(
        "type",
        enum_by_value(ContainerRegistryType, "containerregistrytype"),
        nullable=False,
        server_default=ContainerRegistryType.DOCKER.value,
        index=True,
    ),
    sa.Column("project", sa.String(length=255)),
    sa.Column("username", sa.String(length=255)),
    sa.Column("password", sa.String),
    sa.Column("ssl_verify", sa.Boolean, server_default=sa.true()),
    sa.Column("is_global", sa.Boolean, server_default=sa.true(), index=True),
    sa.Column("extra", postgresql.JSONB),
)

images = sa.Table(
    "images",
    metadata,
    id_column(),
    sa.Column("name", sa.String, nullable=False, index=True),
    sa.Column("registry", sa.String, nullable=False, index=True),
    sa.Column(
        "registry_id",
        sa.Uuid,
        sa.ForeignKey("container_registries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("tag", sa.String),
    sa.Column("architecture", sa.String, nullable=False, server_default="x86_64"),
    sa.Column("config_digest", sa.String(length=72), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("type", sa.Enum(ImageType, name="imagetype"), nullable=False),
    sa.Column("accelerators", sa.String),
    json_column("labels", default=None),
    json_column("resources", default=None),
    sa.UniqueConstraint("name", "architecture", name="uq_image_name_architecture"),
)

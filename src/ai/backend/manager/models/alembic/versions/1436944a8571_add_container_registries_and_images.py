"""Add container registries and images

Revision ID: 1436944a8571
Revises: 47937f5e426d
Create Date: 2023-04-11 13:20:57.044683

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "1436944a8571"
down_revision = "47937f5e426d"
branch_labels = None
depends_on = None

containerregistrytype = postgresql.ENUM(
    "docker", "harbor", "harbor2", name="containerregistrytype", create_type=False
)
imagetype = postgresql.ENUM("COMPUTE", "SYSTEM", "SERVICE", name="imagetype", create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    containerregistrytype.create(bind)
    imagetype.create(bind)
    op.create_table(
        "container_registries",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("registry_name", sa.String(length=50), nullable=False),
        sa.Column("type", containerregistrytype, server_default="docker", nullable=False),
        sa.Column("project", sa.String(length=255), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password", sa.String(), nullable=True),
        sa.Column("ssl_verify", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("is_global", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_container_registries")),
    )
    op.create_index(
        op.f("ix_container_registries_is_global"),
        "container_registries",
        ["is_global"],
        unique=False,
    )
    op.create_index(
        op.f("ix_container_registries_registry_name"),
        "container_registries",
        ["registry_name"],
        unique=False,
    )
    op.create_index(
        op.f("ix_container_registries_type"), "container_registries", ["type"], unique=False
    )
    op.create_index(
        op.f("ix_container_registries_url"), "container_registries", ["url"], unique=False
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("registry", sa.String(), nullable=False),
        sa.Column("registry_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(), nullable=True),
        sa.Column("architecture", sa.String(), server_default="x86_64", nullable=False),
        sa.Column("config_digest", sa.String(length=72), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("type", imagetype, nullable=False),
        sa.Column("accelerators", sa.String(), nullable=True),
        sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("resources", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["registry_id"],
            ["container_registries.id"],
            name=op.f("fk_images_registry_id_container_registries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("name", "architecture", name="uq_image_name_architecture"),
    )
    op.create_index(op.f("ix_images_name"), "images", ["name"], unique=False)
    op.create_index(op.f("ix_images_registry"), "images", ["registry"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_images_registry"), table_name="images")
    op.drop_index(op.f("ix_images_name"), table_name="images")
    op.drop_table("images")
    op.drop_index(op.f("ix_container_registries_url"), table_name="container_registries")
    op.drop_index(op.f("ix_container_registries_type"), table_name="container_registries")
    op.drop_index(op.f("ix_container_registries_registry_name"), table_name="container_registries")
    op.drop_index(op.f("ix_container_registries_is_global"), table_name="container_registries")
    op.drop_table("container_registries")
    bind = op.get_bind()
    imagetype.drop(bind)
    containerregistrytype.drop(bind)

"""Add worker app filters

Revision ID: 120021687ca9
Revises: 8495dfbf238a
Create Date: 2024-04-16 09:26:50.581933

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "120021687ca9"
down_revision = "8495dfbf238a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_app_filters",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("property_name", sa.String(length=64), nullable=False),
        sa.Column("property_value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_worker_app_filters_worker_id_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_app_filters")),
        sa.UniqueConstraint(
            "worker_id", "property_name", "property_value", name="uq_worker_app_filters_property"
        ),
    )
    op.create_index(
        op.f("ix_worker_app_filters_worker_id"), "worker_app_filters", ["worker_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_worker_app_filters_worker_id"), table_name="worker_app_filters")
    op.drop_table("worker_app_filters")

"""Create workers

Revision ID: eaa19f203c1d
Revises:
Create Date: 2024-01-09 14:03:27.550184

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "eaa19f203c1d"
down_revision = None
branch_labels = None
depends_on = None

frontendmode = postgresql.ENUM("wildcard", "port", name="frontendmode", create_type=False)
workerstatus = postgresql.ENUM("alive", "lost", name="workerstatus", create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    frontendmode.create(bind)
    workerstatus.create(bind)
    op.create_table(
        "workers",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("authority", sa.String(length=255), nullable=False),
        sa.Column("frontend_mode", frontendmode, nullable=False),
        sa.Column("protocol", sa.String(length=16), server_default="http", nullable=False),
        sa.Column("hostname", sa.String(length=1024), nullable=False),
        sa.Column("use_tls", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("api_port", sa.Integer(), nullable=False),
        sa.Column("port_range_start", sa.Integer(), nullable=True),
        sa.Column("port_range_end", sa.Integer(), nullable=True),
        sa.Column("wildcard_domain", sa.String(length=1024), nullable=True),
        sa.Column(
            "filtered_apps_only", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "accepted_traffics",
            postgresql.ARRAY(sa.String()),
            server_default=sa.text("'{interactive,inference}'::varchar[]"),
            nullable=False,
        ),
        sa.Column("status", workerstatus, server_default="alive", nullable=False),
        sa.Column("nodes", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("authority", name=op.f("uq_workers_authority")),
    )
    op.create_index(op.f("ix_workers_status"), "workers", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_workers_status"), table_name="workers")
    op.drop_table("workers")
    bind = op.get_bind()
    workerstatus.drop(bind)
    frontendmode.drop(bind)

"""Add circuits

Revision ID: ac6e95dd1c8b
Revises: eaa19f203c1d
Create Date: 2024-01-23 11:45:12.094736

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "ac6e95dd1c8b"
down_revision = "eaa19f203c1d"
branch_labels = None
depends_on = None

appmode = postgresql.ENUM("interactive", "inference", name="appmode", create_type=False)
proxyprotocol = postgresql.ENUM(
    "http", "grpc", "h2", "tcp", "preopen", name="proxyprotocol", create_type=False
)
frontendmode = postgresql.ENUM("wildcard", "port", name="frontendmode", create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    appmode.create(bind)
    proxyprotocol.create(bind)
    op.create_table(
        "circuits",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("app", sa.String(length=255), nullable=False),
        sa.Column("protocol", proxyprotocol, nullable=False),
        sa.Column("worker", sa.Uuid(), nullable=False),
        sa.Column("app_mode", appmode, nullable=False),
        sa.Column("frontend_mode", frontendmode, nullable=False),
        sa.Column("envs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("arguments", sa.String(), nullable=True),
        sa.Column("open_to_public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("allowed_client_ips", sa.String(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("subdomain", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("access_key", sa.String(length=20), nullable=True),
        sa.Column("endpoint_id", sa.Uuid(), nullable=True),
        sa.Column(
            "session_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
        sa.Column(
            "route_info",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["worker"], ["workers.id"], name=op.f("fk_circuits_worker_workers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circuits")),
    )
    op.create_index(op.f("ix_circuits_worker"), "circuits", ["worker"], unique=False)
    op.create_index(
        "ix_circuits_worker_port",
        "circuits",
        ["worker", "port"],
        unique=True,
        postgresql_where=sa.text("port IS NOT NULL"),
    )
    op.create_index(
        "ix_circuits_worker_subdomain",
        "circuits",
        ["worker", "subdomain"],
        unique=True,
        postgresql_where=sa.text("subdomain IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_circuits_worker_subdomain", table_name="circuits")
    op.drop_index("ix_circuits_worker_port", table_name="circuits")
    op.drop_index(op.f("ix_circuits_worker"), table_name="circuits")
    op.drop_table("circuits")
    bind = op.get_bind()
    proxyprotocol.drop(bind)
    appmode.drop(bind)

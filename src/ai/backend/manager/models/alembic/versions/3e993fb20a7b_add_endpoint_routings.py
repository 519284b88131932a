"""Add endpoint routings

Revision ID: 3e993fb20a7b
Revises: 5b0e2be29bb4
Create Date: 2023-10-10 17:26:14.905733

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "3e993fb20a7b"
down_revision = "5b0e2be29bb4"
branch_labels = None
depends_on = None

routestatus = postgresql.ENUM(
    "provisioning",
    "healthy",
    "unhealthy",
    "terminating",
    "failed_to_start",
    name="routestatus",
    create_type=False,
)


def upgrade() -> None:
    routestatus.create(op.get_bind())
    op.create_table(
        "routings",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("endpoint", sa.Uuid(), nullable=False),
        sa.Column("session", sa.Uuid(), nullable=True),
        sa.Column("session_owner", sa.Uuid(), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("project", sa.Uuid(), nullable=False),
        sa.Column("status", routestatus, server_default="provisioning", nullable=False),
        sa.Column("traffic_ratio", postgresql.DOUBLE_PRECISION(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["domain"],
            ["domains.name"],
            name=op.f("fk_routings_domain_domains"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint"],
            ["endpoints.id"],
            name=op.f("fk_routings_endpoint_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project"], ["groups.id"], name=op.f("fk_routings_project_groups"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["session"],
            ["sessions.id"],
            name=op.f("fk_routings_session_sessions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["session_owner"],
            ["users.uuid"],
            name=op.f("fk_routings_session_owner_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routings")),
    )
    op.create_index(op.f("ix_routings_endpoint"), "routings", ["endpoint"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_routings_endpoint"), table_name="routings")
    op.drop_table("routings")
    routestatus.drop(op.get_bind())

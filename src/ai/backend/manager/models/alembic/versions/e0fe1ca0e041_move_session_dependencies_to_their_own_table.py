"""Move session dependencies to their own table

Revision ID: e0fe1ca0e041
Revises: eace797882f8
Create Date: 2023-09-05 10:31:56.402198

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "e0fe1ca0e041"
down_revision = "eace797882f8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_dependencies",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("depends_on", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depends_on"],
            ["sessions.id"],
            name=op.f("fk_session_dependencies_depends_on_sessions"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_dependencies_session_id_sessions"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "depends_on", name=op.f("pk_session_dependencies")),
    )
    op.create_index(
        op.f("ix_session_dependencies_depends_on"),
        "session_dependencies",
        ["depends_on"],
        unique=False,
    )
    # One row per (session, dependency) from the sessions.depends_on arrays. Dependencies on
    # sessions that no longer exist have nothing to point at and are dropped.
    op.get_bind().execute(
        sa.text(
            "INSERT INTO session_dependencies (session_id, depends_on)"
            " SELECT DISTINCT s.id, d.dependency"
            " FROM sessions AS s"
            " CROSS JOIN LATERAL unnest(s.depends_on) AS d(dependency)"
            " JOIN sessions AS target ON target.id = d.dependency"
        )
    )
    op.drop_column("sessions", "depends_on")


def downgrade() -> None:
    op.add_column("sessions", sa.Column("depends_on", postgresql.ARRAY(sa.Uuid()), nullable=True))
    op.get_bind().execute(
        sa.text(
            "UPDATE sessions AS s SET depends_on = deps.ids"
            " FROM ("
            "   SELECT session_id, array_agg(depends_on ORDER BY depends_on) AS ids"
            "   FROM session_dependencies GROUP BY session_id"
            " ) AS deps"
            " WHERE deps.session_id = s.id"
        )
    )
    op.drop_index(op.f("ix_session_dependencies_depends_on"), table_name="session_dependencies")
    op.drop_table("session_dependencies")

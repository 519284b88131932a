"""Add user and project resource policies

Revision ID: bcbba7ad3c44
Revises: 1436944a8571
Create Date: 2023-05-02 11:48:16.530921

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "bcbba7ad3c44"
down_revision = "1436944a8571"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_resource_policies",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("max_vfolder_count", sa.Integer(), nullable=False),
        sa.Column("max_quota_scope_size", sa.BigInteger(), nullable=False),
        sa.Column("max_session_count_per_model_session", sa.Integer(), nullable=False),
        sa.Column("max_customized_image_count", sa.Integer(), server_default="3", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_user_resource_policies")),
    )
    op.create_table(
        "project_resource_policies",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("max_vfolder_count", sa.Integer(), nullable=False),
        sa.Column("max_quota_scope_size", sa.BigInteger(), nullable=False),
        sa.Column("max_network_count", sa.Integer(), server_default="3", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_project_resource_policies")),
    )
    # Every existing user and project gets the "default" policy.
    op.execute(
        "INSERT INTO user_resource_policies"
        " (name, max_vfolder_count, max_quota_scope_size, max_session_count_per_model_session)"
        " VALUES ('default', 0, -1, 10)"
    )
    op.execute(
        "INSERT INTO project_resource_policies (name, max_vfolder_count, max_quota_scope_size)"
        " VALUES ('default', 0, -1)"
    )
    op.add_column(
        "users",
        sa.Column(
            "resource_policy", sa.String(length=256), server_default="default", nullable=False
        ),
    )
    op.create_foreign_key(
        op.f("fk_users_resource_policy_user_resource_policies"),
        "users",
        "user_resource_policies",
        ["resource_policy"],
        ["name"],
    )
    op.add_column(
        "groups",
        sa.Column(
            "resource_policy", sa.String(length=256), server_default="default", nullable=False
        ),
    )
    op.create_foreign_key(
        op.f("fk_groups_resource_policy_project_resource_policies"),
        "groups",
        "project_resource_policies",
        ["resource_policy"],
        ["name"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_groups_resource_policy_project_resource_policies"), "groups", type_="foreignkey"
    )
    op.drop_column("groups", "resource_policy")
    op.drop_constraint(
        op.f("fk_users_resource_policy_user_resource_policies"), "users", type_="foreignkey"
    )
    op.drop_column("users", "resource_policy")
    op.drop_table("project_resource_policies")
    op.drop_table("user_resource_policies")

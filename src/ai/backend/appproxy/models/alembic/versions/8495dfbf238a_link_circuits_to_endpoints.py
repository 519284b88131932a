"""Link circuits to endpoints

Revision ID: 8495dfbf238a
Revises: a3388591ea72
Create Date: 2024-03-05 13:58:21.237461

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "8495dfbf238a"
down_revision = "a3388591ea72"
branch_labels = None
depends_on = None


# migration-safety: ignore=adding-foreign-key-constraint,constraint-missing-not-valid applied in every deployment since 2024-03 (before this lint): editing its ops changes nothing there; a new foreign key goes NOT VALID first, then VALIDATE CONSTRAINT in a later revision
# migration-safety: ignore=require-concurrent-index-creation applied in every deployment since 2024-03 (before this lint); new indexes on existing tables use postgresql_concurrently=True in an autocommit_block


def upgrade() -> None:
    # Circuits may name endpoints this proxy never registered: forget those links first.
    op.execute(
        "UPDATE circuits SET endpoint_id = NULL"
        " WHERE endpoint_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = circuits.endpoint_id)"
    )
    op.create_foreign_key(
        op.f("fk_circuits_endpoint_id_endpoints"),
        "circuits",
        "endpoints",
        ["endpoint_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_circuits_endpoint_id"), "circuits", ["endpoint_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_circuits_endpoint_id"), table_name="circuits")
    op.drop_constraint(op.f("fk_circuits_endpoint_id_endpoints"), "circuits", type_="foreignkey")

"""Add vfolder quota scope id

Revision ID: 0ca004065696
Revises: 2a42522c3a8a
Create Date: 2023-10-03 12:09:27.338150

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0ca004065696"
down_revision = "2a42522c3a8a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("vfolders", sa.Column("quota_scope_id", sa.String(length=512), nullable=True))
    # Existing folders are scoped to their owner: "user:<uuid>" or "project:<uuid>".
    op.execute(
        "UPDATE vfolders SET quota_scope_id = CASE ownership_type"
        " WHEN 'user' THEN 'user:' || \"user\"::text"
        " ELSE 'project:' || \"group\"::text END"
    )


def downgrade() -> None:
    op.drop_column("vfolders", "quota_scope_id")

"""Merge vfolder status and model serving

Revision ID: ddc0ecaca3e9
Revises: 0ca004065696, 3e993fb20a7b
Create Date: 2023-10-17 09:41:33.012874

"""

# revision identifiers, used by Alembic.
revision = "ddc0ecaca3e9"
down_revision = ("0ca004065696", "3e993fb20a7b")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Drop tokens.login_session_token

Revision ID: d14a0861a41b
Revises: 120021687ca9
Create Date: 2024-05-28 15:40:09.862316

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d14a0861a41b"
down_revision = "120021687ca9"
branch_labels = None
depends_on = None


# migration-safety: ignore=ban-drop-column applied in every deployment since 2024-05 (before this lint): editing its ops changes nothing there


def upgrade() -> None:
    op.drop_column("tokens", "login_session_token")


def downgrade() -> None:
    op.add_column("tokens", sa.Column("login_session_token", sa.String(length=255), nullable=True))

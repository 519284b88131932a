"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
<%doc>
    Only the imports the body uses (ruff F401), in isort's order: an empty revision imports
    neither `op` nor `sa`. Anything else autogenerate adds (`imports`) and Black's style for
    its code come from the formatting step of `pants db-create-migration`.
</%doc>\
<%
    body = (upgrades or "") + (downgrades or "")

    def literal(value):
        """A Python literal the way Black writes it (double quotes)."""
        if value is None:
            return "None"
        if isinstance(value, str):
            return '"%s"' % value
        items = ['"%s"' % v for v in value]
        return "(%s)" % (items[0] + "," if len(items) == 1 else ", ".join(items))
%>\
from typing import Sequence, Union
% if "sa." in body or "op." in body:

% endif
% if "sa." in body:
import sqlalchemy as sa
% endif
% if "op." in body:
from alembic import op
% endif
% if imports:
${imports}
% endif

# revision identifiers, used by Alembic.
revision: str = ${literal(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${literal(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${literal(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${literal(depends_on)}


def upgrade() -> None:
    """Upgrade schema."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Downgrade schema."""
    ${downgrades if downgrades else "pass"}

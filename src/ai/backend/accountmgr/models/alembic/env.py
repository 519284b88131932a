"""Alembic environment of the account manager database (`alembic -c alembic-accountmgr.ini ...`): URL from $ACCOUNTMGR_DB_URL."""

from alembic import context

from ai.backend.accountmgr.models import metadata
from ai.backend.common.alembic_env import run_migrations

run_migrations(
    context,
    metadata,
    url_env="ACCOUNTMGR_DB_URL",
    default_version_table="alembic_version_accountmgr",
)

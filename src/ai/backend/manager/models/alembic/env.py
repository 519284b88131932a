"""Alembic environment of the manager database (`alembic -c alembic.ini ...`): URL from $MANAGER_DB_URL."""

from alembic import context

from ai.backend.common.alembic_env import run_migrations
from ai.backend.manager.models import metadata

run_migrations(context, metadata, url_env="MANAGER_DB_URL", default_version_table="alembic_version")

"""Alembic environment of the app proxy database (`alembic -c alembic-appproxy.ini ...`): URL from $APPPROXY_DB_URL."""

from alembic import context

from ai.backend.appproxy.models import metadata
from ai.backend.common.alembic_env import run_migrations

run_migrations(
    context, metadata, url_env="APPPROXY_DB_URL", default_version_table="alembic_version_appproxy"
)

"""Alembic environment of the manager database (`alembic -c alembic.ini ...`).

The URL is $MANAGER_DB_URL when set, else the ini's `sqlalchemy.url`. A caller may hand over an open
connection in `config.attributes["connection"]`, and skip the ini's logging setup with
`config.attributes["configure_logger"] = False`.
"""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from ai.backend.manager.models import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = os.environ.get("MANAGER_DB_URL") or config.get_main_option("sqlalchemy.url")
options = {
    "target_metadata": metadata,
    "version_table": config.get_main_option("version_table", "alembic_version"),
    "transaction_per_migration": True,
    "compare_type": True,
}


def run_migrations(**connect) -> None:
    context.configure(**connect, **options)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # --sql: print the SQL instead of running it
    run_migrations(url=url, literal_binds=True)
elif (connection := config.attributes.get("connection")) is not None:
    run_migrations(connection=connection)
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        run_migrations(connection=connection)
    engine.dispose()

"""The body of every component's Alembic `env.py`: one place for how migrations connect.

The URL is the component's environment variable when set, else the ini's `sqlalchemy.url`. A caller
may hand over an open connection in `config.attributes["connection"]`, and skip the ini's logging
setup with `config.attributes["configure_logger"] = False`. One transaction per revision, so a
failing revision leaves the ones before it applied.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

import sqlalchemy as sa
from sqlalchemy import create_engine, pool


def run_migrations(
    context, metadata: sa.MetaData, url_env: str, default_version_table: str
) -> None:
    config = context.config
    if config.config_file_name is not None and config.attributes.get("configure_logger", True):
        fileConfig(config.config_file_name, disable_existing_loggers=False)

    url = os.environ.get(url_env) or config.get_main_option("sqlalchemy.url")
    options = {
        "target_metadata": metadata,
        "version_table": config.get_main_option("version_table", default_version_table),
        "transaction_per_migration": True,
        "compare_type": True,
    }

    def run(**connect) -> None:
        context.configure(**connect, **options)
        with context.begin_transaction():
            context.run_migrations()

    handed_over = config.attributes.get("connection")
    if context.is_offline_mode():  # --sql: print the SQL instead of running it
        run(url=url, literal_binds=True)
    elif handed_over is not None:
        run(connection=handed_over)
    else:
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            run(connection=connection)
        engine.dispose()

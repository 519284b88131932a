"""`db-dev-server` inside the resolved environment: status, start, stop or reset the development PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

from db_migrate.core.report import Problem, ProblemError
from db_migrate.runner.postgres.database import DatabaseUrl
from db_migrate.runner.postgres.dev_server import DevServerSettings, describe, status
from db_migrate.runner.postgres.server import PgServerError


def run(plan, environ, outcome) -> None:
    """`pants db-dev-server --action=...`: status, start, stop, reset."""
    from db_migrate.core.alembic_ini import parse_alembic_ini

    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    settings = DevServerSettings.from_options(plan.buildroot, plan.options)
    url = (
        DatabaseUrl.parse(ini.url)
        if ini.url
        else DatabaseUrl.parse(f"postgresql://postgres@127.0.0.1:{settings.port}/postgres")
    )
    action = plan.option("action", "status")
    server = settings.server(url)
    try:
        if action == "start" and not server.is_running():
            settings.init(server)
            server.start()
        elif action == "stop":
            if server.is_running():
                server.stop()
                print(
                    f"Development PostgreSQL on 127.0.0.1:{settings.port} stopped (data kept in {server.data_dir})"
                )
            else:
                print("Development PostgreSQL is not running")
        elif action == "reset":
            if server.is_running():
                server.stop()
            shutil.rmtree(settings.data_dir, ignore_errors=True)
            print(
                f"Development PostgreSQL reset: {settings.data_dir} removed; the next db-migrate starts afresh"
            )
        if action in ("status", "start"):
            print(f"Development PostgreSQL: {status(settings, url)}")
    except PgServerError as e:
        raise ProblemError(
            Problem(
                title="Development PostgreSQL failed",
                details=(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__,),
                actions=(
                    f"Read its log: {server.log_file}",
                    "Start afresh: pants db-dev-server --action=reset",
                ),
                kind="dev_server",
            )
        ) from None
    outcome.status = "ok"
    outcome.extra = {"server": describe(settings, server, action, plan.buildroot)}

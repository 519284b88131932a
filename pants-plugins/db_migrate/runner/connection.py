"""Open a component's database for a command, starting the development server when it is ours."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

import psycopg

from db_migrate.alembic_ini import AlembicIni
from db_migrate.plan import RunnerPlan
from db_migrate.report import ProblemError
from db_migrate.runner.database import UrlSource, connect, resolve_url
from db_migrate.runner.devserver import DevServerSettings, ensure_database


@dataclass
class ComponentDatabase:
    source: UrlSource
    connection: psycopg.Connection
    started_dev_server: bool = False

    def alembic_environ(self, plan: RunnerPlan) -> dict:
        """Settings for Alembic's own connection: timeouts through libpq's PGOPTIONS.

        On PostgreSQL 14+ the server also checks every second that we are still there, so a
        migration killed mid-statement (kill -9) stops holding its locks within a second instead
        of running its statement to the end.
        """
        options = []
        version = self.connection.execute("SHOW server_version_num").fetchone()[0]
        if int(version) >= 140000:
            options.append("-c client_connection_check_interval=1000")
        for name in ("lock_timeout", "statement_timeout"):
            value = re.sub(r"\s+", "", str(plan.option(f"pg_{name}", "") or ""))
            if value:
                options.append(f"-c {name}={value}")
        return {"PGOPTIONS": " ".join(options)} if options else {}


def open_component_database(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str], *, start_dev_server: bool = True
) -> ComponentDatabase:
    source = resolve_url(plan.url_env, ini.url, environ, plan.component, plan.config)
    timeout = float(plan.option("connect_timeout", 5))
    dev = DevServerSettings.from_options(plan.buildroot, plan.options)
    ours = dev.serves(source)
    try:
        return ComponentDatabase(source, connect(source, plan.component, timeout, dev_server=ours))
    except ProblemError as e:
        startable = e.problem.details[0].startswith(("Connection refused", "Database '"))
        if not (start_dev_server and ours and startable):
            raise
    ensure_database(dev, source.url, plan.component)
    return ComponentDatabase(
        source, connect(source, plan.component, timeout, dev_server=True), started_dev_server=True
    )


def peek_database(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str]
) -> Optional[ComponentDatabase]:
    """Read-only commands: never start a server just to report."""
    return open_component_database(plan, ini, environ, start_dev_server=False)

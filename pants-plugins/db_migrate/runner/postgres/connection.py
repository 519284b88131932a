"""Open a component's database for a command, starting the development server when it is ours."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Iterator, Mapping, Optional

import psycopg

from db_migrate.core.alembic_ini import AlembicIni
from db_migrate.core.contract import RunnerPlan, SharedSettings
from db_migrate.core.database_url import UrlSource, resolve_url
from db_migrate.core.report import ProblemError, register_secret
from db_migrate.runner.faults.watch import ServerWatch
from db_migrate.runner.postgres.database import connect
from db_migrate.runner.postgres.dev_server import (
    DevServerSettings,
    check_owner,
    check_port_owner,
    ensure_database,
)


def user_options(source: UrlSource, environ: Mapping[str, str]) -> str:
    """The libpq `options` the user asked for: the URL's own, else $PGOPTIONS (as libpq reads them)."""
    return source.url.libpq_params().get("options") or environ.get("PGOPTIONS", "")


def migration_options(shared: SharedSettings, base: str, server_version: int) -> str:
    """`base` plus our settings for the connection migrations run on, appended so both win.

    On PostgreSQL 14+ the server also checks every second that we are still there, so a
    migration killed mid-statement (kill -9) stops holding its locks within a second instead
    of running its statement to the end.
    """
    options = [base] if base.strip() else []
    if server_version >= 140000:
        options.append("-c client_connection_check_interval=1000")
    timeouts = {
        "lock_timeout": shared.pg_lock_timeout,
        "statement_timeout": shared.pg_statement_timeout,
    }
    for name, value in timeouts.items():
        value = re.sub(r"\s+", "", value)
        if value:
            options.append(f"-c {name}={value}")
    return " ".join(options)


@dataclass
class ComponentDatabase:
    source: UrlSource
    connection: psycopg.Connection  # our own session: the lock, the version table, the ledger
    user_options: str = ""
    started_dev_server: bool = False
    component: str = ""
    connect_timeout: float = 5.0
    network_timeout: float = SharedSettings.network_timeout
    dev_server: bool = False  # the repo's development server (it may be started)
    watch: Optional[ServerWatch] = None  # while the migration lock is held

    def migration_options(self, plan: RunnerPlan) -> str:
        version = int(self.connection.execute("SHOW server_version_num").fetchone()[0])
        return migration_options(plan.shared, self.user_options, version)

    def alembic_environ(self, plan: RunnerPlan) -> dict:
        """PGOPTIONS for a connection env.py opens itself (with a libpq driver): ours appended."""
        options = self.migration_options(plan)
        return {"PGOPTIONS": options} if options else {}

    def reconnect(self) -> psycopg.Connection:
        """A new session like our own (raises the `Cannot connect` problem when it cannot)."""
        return connect(
            self.source,
            self.component,
            self.connect_timeout,
            dev_server=self.dev_server,
            options=self.user_options,
            network_timeout=self.network_timeout,
        )

    @contextlib.contextmanager
    def watched(self) -> Iterator[ServerWatch]:
        """The server watched (`faults.watch`) while the block runs."""
        with ServerWatch(self.connection, self.network_timeout) as watch:
            self.watch = watch
            try:
                yield watch
            finally:
                self.watch = None


def open_component_database(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str], *, start_dev_server: bool = True
) -> ComponentDatabase:
    source = resolve_url(plan.url_env, ini.url, environ, plan.component, plan.config)
    register_secret(*source.url.secrets())
    timeout = plan.shared.connect_timeout
    network_timeout = plan.shared.network_timeout
    dev = DevServerSettings.of(plan.buildroot, plan.shared)
    ours = dev.serves(source)
    options = user_options(source, environ)

    def attempt(dev_server: bool) -> ComponentDatabase:
        conn = connect(
            source,
            plan.component,
            timeout,
            dev_server=dev_server,
            options=options,
            network_timeout=network_timeout,
        )
        return ComponentDatabase(
            source,
            conn,
            options,
            component=plan.component,
            connect_timeout=timeout,
            network_timeout=network_timeout,
            dev_server=dev_server,
        )

    try:
        db = attempt(ours)
    except ProblemError as e:
        if not ours:
            raise
        reason = e.problem.details[0]
        if reason.startswith(("Database '", "Password authentication failed")):
            check_port_owner(dev, source.url, plan.component)  # something answers: whose is it?
        if not (start_dev_server and reason.startswith(("Connection refused", "Database '"))):
            raise
        ensure_database(dev, source.url, plan.component)
        db = attempt(True)
        db.started_dev_server = True
    if ours:
        try:
            check_owner(dev, db.connection, source.url, plan.component)
        except ProblemError:
            db.connection.close()
            raise
    return db


def peek_database(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str]
) -> Optional[ComponentDatabase]:
    """Read-only commands: never start a server just to report."""
    return open_component_database(plan, ini, environ, start_dev_server=False)

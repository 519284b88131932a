"""`db-dev-server` inside the resolved environment: status, start, stop or reset the development PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import quote

import psycopg

from db_migrate.core.contract import DevServerOptions, RunnerPlan
from db_migrate.core.database_url import LOCAL_HOSTS, DatabaseUrl
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem, ProblemError, first_line, mask
from db_migrate.runner.postgres.dev_server import (
    DevServerSettings,
    check_port_owner,
    describe,
    listening,
    status,
)
from db_migrate.runner.postgres.server import PgServerError
from db_migrate.runner.snapshot import templates


def dev_server_url(settings: DevServerSettings, ini_url: str) -> DatabaseUrl:
    """Where the development server listens, as the ini's URL names its superuser.

    The ini's URL may point at another server (a team's shared one, a test's): the address whose
    port is checked and started is the development server's all the same, never that server's.
    """
    url = DatabaseUrl.parse(ini_url) if ini_url else None
    if url is not None and url.host in LOCAL_HOSTS and url.port == settings.port:
        return url
    user = quote((url.user if url else None) or "postgres", safe="")
    password = f":{quote(url.password, safe='')}" if url and url.password else ""
    return DatabaseUrl.parse(f"postgresql://{user}{password}@127.0.0.1:{settings.port}/postgres")


def run(plan: RunnerPlan[DevServerOptions], environ, outcome: Outcome) -> None:
    """`pants db-dev-server --action=...`: status, start, stop, reset."""
    from db_migrate.core.alembic_ini import parse_alembic_ini

    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    settings = DevServerSettings.of(plan.buildroot, plan.shared)
    url = dev_server_url(settings, ini.url)
    action = plan.options.action
    server = settings.server(url)
    try:
        if action in ("status", "start") and not server.is_running() and listening(url):
            # The port is taken: by another checkout's server, which is never ours to use.
            print(f"Development PostgreSQL: {status(settings, url)}", flush=True)
            check_port_owner(settings, url, "")
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
        kept: Optional[list] = None
        if action in ("status", "start"):
            print(f"Development PostgreSQL: {status(settings, url)}")
            if server.is_running():
                line, kept = snapshot_templates(url)
                print(line)
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
    outcome.extra["server"]["snapshot_templates"] = kept


def snapshot_templates(url: DatabaseUrl) -> Tuple[str, Optional[List[dict]]]:
    """The line and the JSON for the snapshot templates on the running server: databases of
    ours (`db-migrate --from-snapshot --snapshot-template`) that hold its disk until a reset."""
    try:
        with templates.Server(url) as server:
            kept = templates.on_server(server)
    except psycopg.Error as e:
        why = mask(first_line(e), url.secrets())
        return f"Snapshot templates: not listed ({why})", None
    if not kept:
        return "Snapshot templates: none", []
    total = sum(k.size_bytes for k in kept)
    each = ", ".join(f"{k.name} {_megabytes(k.size_bytes)}" for k in kept)
    line = f"Snapshot templates: {len(kept)}, {_megabytes(total)} ({each}); a reset removes them"
    return line, [{"name": k.name, "size_bytes": k.size_bytes} for k in kept]


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"

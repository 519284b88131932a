"""The repo's development PostgreSQL: started on demand, data kept in a git-ignored folder.

A component whose URL comes from its ini (no environment override) and points at the dev
server's host and port gets the server started and its database created on first use. Any
other URL is somebody else's server: we never start anything for it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from db_migrate.runner.postgres.database import DatabaseUrl, UrlSource
from db_migrate.runner.postgres.server import LocalServer, pg_version
from db_migrate.runner.workspace import git_ignored_folder

LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class DevServerSettings:
    data_dir: Path
    port: int

    @classmethod
    def from_options(cls, buildroot: str, options: dict) -> DevServerSettings:
        data_dir = Path(options.get("dev_server_dir") or ".dev-postgres")
        if not data_dir.is_absolute():
            data_dir = Path(buildroot) / data_dir
        return cls(data_dir=data_dir, port=int(options.get("dev_server_port") or 8101))

    def serves(self, source: UrlSource) -> bool:
        """True when `source` is the default URL aimed at this dev server."""
        return (
            (not source.from_env)
            and source.url.host in LOCAL_HOSTS
            and source.url.port == self.port
        )

    def init(self, server: LocalServer) -> None:
        """The server's data directory, made if missing, in a git-ignored folder of its own."""
        git_ignored_folder(self.data_dir)
        server.init()

    def server(self, url: DatabaseUrl) -> LocalServer:
        return LocalServer(
            data_dir=self.data_dir / "data",
            port=self.port,
            password=url.password or "",
            superuser=url.user or "postgres",
        )


def ensure_database(settings: DevServerSettings, url: DatabaseUrl, component: str) -> None:
    """Start the dev server if it is down and create the component's database if missing."""
    server = settings.server(url)
    if not server.is_running():
        fresh = not server.is_initialized()
        print(
            f"{component}: starting the development PostgreSQL {pg_version()} on {url.where} "
            f"({'new data directory ' if fresh else ''}{server.data_dir}) ...",
            flush=True,
        )
        settings.init(server)
        server.start()
    if not server.database_exists(url.database):
        print(
            f"{component}: creating database '{url.database}' on the development server", flush=True
        )
        server.create_database(url.database)


def state(server: LocalServer) -> str:
    """`running`, `stopped` (data kept) or `not-created`: what `--output=json` reports."""
    if server.is_running():
        return "running"
    return "stopped" if server.is_initialized() else "not-created"


def status(settings: DevServerSettings, url: DatabaseUrl) -> str:
    """Where the server itself listens: a component's URL may point elsewhere."""
    server = settings.server(url)
    now = state(server)
    if now == "running":
        return f"running on {server.address}, data in {server.data_dir}"
    if now == "stopped":
        return f"stopped (data in {server.data_dir})"
    return "not created yet (the first db-migrate creates it)"


def describe(settings: DevServerSettings, server: LocalServer, action: str, buildroot: str) -> dict:
    """The server's part of the JSON report: one server for every component, so none is named."""
    data_dir = settings.data_dir
    with contextlib.suppress(ValueError):
        data_dir = data_dir.relative_to(buildroot)
    return {
        "action": action,
        "state": state(server),
        "address": server.address,
        "data_dir": str(data_dir),
    }

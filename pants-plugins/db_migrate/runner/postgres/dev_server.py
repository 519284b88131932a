"""The repo's development PostgreSQL: started on demand, data kept in a git-ignored folder.

A component whose URL comes from its ini (no environment override) and points at the dev
server's host and port gets the server started and its database created on first use. Any
other URL is somebody else's server: we never start anything for it.

The port alone does not make a server ours: another checkout on this machine may run its own
development server there, with the same default password. What does is the server's data
folder, which every PostgreSQL carries as its `data_directory` setting (readable by its
superuser, the user the ini's URL names): a server whose data folder is not this checkout's is
named, and never read or written.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import psycopg

from db_migrate.core.contract import SharedSettings
from db_migrate.core.database_url import DatabaseUrl, UrlSource
from db_migrate.core.dev_server_folder import data_directory, dev_server_dir, same_folder
from db_migrate.core.report import Problem, ProblemError
from db_migrate.runner.postgres.errors import db_error_text
from db_migrate.runner.postgres.server import LocalServer, pg_version
from db_migrate.runner.workspace import git_ignored_folder


@dataclass(frozen=True)
class DevServerSettings:
    data_dir: Path
    port: int

    @classmethod
    def of(cls, buildroot: str, shared: SharedSettings) -> DevServerSettings:
        data_dir = dev_server_dir(buildroot, shared.dev_server_dir)
        return cls(data_dir=data_dir, port=shared.dev_server_port or 8101)

    def serves(self, source: UrlSource) -> bool:
        """True when `source` is the default URL aimed at this dev server."""
        return source.is_dev_server(self.port)

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


def check_owner(
    settings: DevServerSettings, conn: psycopg.Connection, url: DatabaseUrl, component: str
) -> None:
    """Raise `not_ours` unless the server `conn` reached runs on this checkout's data folder."""
    folder = data_directory(conn)
    ours = settings.server(url).data_dir
    if folder is not None and same_folder(folder, ours):
        return
    why = "" if folder is not None else f"user '{url.user}' may not read its data_directory"
    raise ProblemError(not_ours(settings, url, component, folder, why))


def listening(url: DatabaseUrl, timeout: float = 1.0) -> bool:
    """Whether anything accepts TCP connections on the URL's host and port."""
    try:
        with socket.create_connection((url.host, url.port), timeout=timeout):
            return True
    except OSError:
        return False


def check_port_owner(settings: DevServerSettings, url: DatabaseUrl, component: str) -> None:
    """Whoever answers on the development port must run on this checkout's data folder."""
    server = settings.server(url)
    try:
        conn = server.connect()
    except psycopg.Error as e:
        if server.is_running():
            return  # ours: the caller's own connection says what is wrong
        raise ProblemError(not_ours(settings, url, component, None, db_error_text(e))) from None
    with conn:
        check_owner(settings, conn, url, component)


def _free_port_after(port: int, host: str) -> int:
    """The first port above `port` nobody listens on now (a suggestion: it may be taken later)."""
    for candidate in range(port + 1, port + 100):
        with socket.socket() as sock:
            try:
                sock.bind((host, candidate))
                return candidate
            except OSError:
                continue
    return port + 1


def not_ours(
    settings: DevServerSettings,
    url: DatabaseUrl,
    component: str,
    folder: Optional[str],
    why: str = "",
) -> Problem:
    mine = settings.server(url)
    whose = (
        f"a PostgreSQL whose data folder is {folder}"
        if folder
        else f"a PostgreSQL this checkout did not start ({why})"
    )
    port = _free_port_after(settings.port, url.host)
    own = "is not running" if mine.is_initialized() else "has not been created yet"
    return Problem(
        title=f"The server on {url.where} is not this checkout's development server",
        details=(
            f"{component + ': ' if component else ''}{url.where}, the port of this checkout's"
            " development PostgreSQL, is"
            f" taken by {whose}: another checkout's development server, or a server of its own.",
            f"This checkout's development server (data in {mine.data_dir}) {own}.",
            "Nothing was read or written there: another checkout's databases are not yours to migrate.",
        ),
        actions=(
            f"Give this checkout's development server a port of its own: dev_server_port = {port}"
            f" under [db-migrations] in pants.toml, and the same port in every ini URL aimed at"
            f" {url.where} (sqlalchemy.url = ...@{url.host}:{port}/...)",
            "Or stop the other server, if it is yours: pants db-dev-server --action=stop, in the"
            " checkout it belongs to",
            "Or migrate that server on purpose: give its URL in the component's URL variable"
            " (then it is used like any other server, never started or created)",
        ),
        kind="dev_server_not_ours",
    )


def ensure_database(settings: DevServerSettings, url: DatabaseUrl, component: str) -> None:
    """Start the dev server if nothing listens on its port, and create the component's database
    if it is missing; a server that is not this checkout's is refused before anything is written."""
    server = ensure_running(settings, url, component)
    if not server.database_exists(url.database):
        print(
            f"{component}: creating database '{url.database}' on the development server", flush=True
        )
        server.create_database(url.database)


def ensure_running(settings: DevServerSettings, url: DatabaseUrl, component: str) -> LocalServer:
    """The dev server, started if nothing listens on its port, and checked to be this checkout's."""
    server = settings.server(url)
    if not server.is_running() and not listening(url):
        fresh = not server.is_initialized()
        print(
            f"{component}: starting the development PostgreSQL {pg_version()} on {url.where} "
            f"({'new data directory ' if fresh else ''}{server.data_dir}) ...",
            flush=True,
        )
        settings.init(server)
        server.start()
    check_port_owner(settings, url, component)
    return server


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

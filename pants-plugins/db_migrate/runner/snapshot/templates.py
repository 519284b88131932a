"""Snapshot templates: a new database as one file copy on the server, not a load.

A load creates every object anew, its catalog rows and its files, and that is what no dump format
avoids (at 5,000 revisions most of it is the kernel creating 4,207 relations' files). `CREATE
DATABASE ... TEMPLATE` copies a loaded database's files instead. So a database that does not exist
yet is created as a clone of the snapshot's template on its server, which the first such load
builds:

- `pg_restore` into a database of its own, renamed into place only when complete, so a half-built
  one is never cloned, and two runs building the same one at once both end with one template;
- closed to connections (one connected session would make every clone fail) and marked a template;
- named after the component, the dump's content and the loading role: a clone's objects belong to
  whoever loaded the template, as after a replay by that role;
- the newest `KEEP` of a component kept, older ones dropped, and half-built ones of runs that died.

Only when asked (`--snapshot-template`): the first copy on a server costs a load and a copy, and
a database of ours left on a team's server must be the user's choice. `Server` reaches the
server's maintenance database: the URL's server, database `postgres`.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import psycopg
from psycopg import errors, sql

from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import Problem, first_line, mask
from db_migrate.runner.snapshot import load, toc

PREFIX = "dbm_snapshot_"
KEEP = 2  # templates per component: the current snapshot's and the one before (a branch switch)
_DIGEST = 16  # hex digits of the name's hash


class Server:
    """The server a database is (or is to be) on, through one connection to its maintenance
    database (`postgres`): each new connection costs a password exchange."""

    def __init__(self, url: DatabaseUrl) -> None:
        self.url = url  # any database's URL on it: its host, port, role and password
        self._conn: Optional[psycopg.Connection] = None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_) -> None:
        if self._conn is not None:
            self._conn.close()

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None:
            maintenance = self.url.with_database("postgres")
            self._conn = psycopg.connect(
                maintenance.conninfo(connect_timeout="10"), autocommit=True
            )
        return self._conn

    def execute(self, statement: sql.Composable, *identifiers: str) -> None:
        self.conn.execute(statement.format(*map(sql.Identifier, identifiers)))

    def database_exists(self, name: str) -> bool:
        found = self.conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


@dataclass(frozen=True)
class Cloned:
    """A database created as a clone of a snapshot's template."""

    template: str
    clone_seconds: float
    built: Optional[load.Loaded] = None  # how this run loaded the template (None: it was there)
    build_seconds: float = 0.0


def component_prefix(component: str) -> str:
    """`dbm_snapshot_<component>_`: PostgreSQL names are at most 63 bytes, so it is cut to 20."""
    slug = re.sub(r"[^a-z0-9]+", "_", component.lower()).strip("_")[:20] or "component"
    return f"{PREFIX}{slug}_"


def _named(prefix: str, building: bool = False) -> str:
    """A regex for the names after `prefix` (a regex): the templates', or with `building` the
    half-built copies' (`<template>_<pid>`)."""
    return f"^{prefix}[0-9a-f]{{{_DIGEST}}}" + ("_[0-9]+$" if building else "$")


def template_name(component: str, snapshot: Path, role: str) -> str:
    digest = hashlib.sha256()
    with snapshot.open("rb") as dump:
        for block in iter(lambda: dump.read(1 << 20), b""):
            digest.update(block)
    digest.update(b"\0" + role.encode() + b"\0" + component.encode())
    return component_prefix(component) + digest.hexdigest()[:_DIGEST]


def create_as_clone(url: DatabaseUrl, component: str, snapshot: Path) -> Optional[Cloned]:
    """Create `url`'s database as a clone of the snapshot's template, building that first if it
    is missing. None when the database exists (then it is loaded, or refused, as any other)."""
    with Server(url) as server:
        if server.database_exists(url.database):
            return None
        print(
            f"{component}: creating database '{url.database}' on {url.where} as a copy of the"
            " snapshot's template ...",
            flush=True,
        )
        role = server.conn.execute("SELECT current_user").fetchone()[0]
        name = template_name(component, snapshot, role)
        try:
            return _copy(server, url.database, component, name, snapshot)
        except errors.InvalidCatalogName:  # the template went (another run's eviction) between
            return _copy(server, url.database, component, name, snapshot)  # check and copy


def _copy(
    server: Server, database: str, component: str, name: str, snapshot: Path
) -> Optional[Cloned]:
    """The template, built if missing, copied into `database` (None: it exists meanwhile)."""
    built, build_seconds = None, 0.0
    if not server.database_exists(name):
        started = time.perf_counter()
        built = _build(server, name, snapshot)
        build_seconds = time.perf_counter() - started
        _evict(server, component, keep=name)
    started = time.perf_counter()
    try:
        server.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}"), database, name)
    except errors.DuplicateDatabase:
        return None  # created meanwhile by someone else: loaded or refused as it stands
    return Cloned(name, time.perf_counter() - started, built, build_seconds)


def _build(server: Server, name: str, snapshot: Path) -> load.Loaded:
    building = f"{name}_{os.getpid()}"
    server.execute(sql.SQL("CREATE DATABASE {}"), building)
    try:
        inside, capacity = toc.contents(snapshot), load.lock_capacity(server.conn)
        loaded = load.restore(server.url.with_database(building), inside, capacity)
        closed = sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true")
        server.execute(closed, building)
        try:
            server.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}"), building, name)
        except errors.DuplicateDatabase:
            pass  # another run built the same template at the same time: its copy serves
        else:
            return loaded
    except BaseException:
        _drop(server, building)
        raise
    _drop(server, building)
    return loaded


def templates_of(server: Server, component: str) -> List[str]:
    """The component's complete templates on the server, newest first (by OID: creation order)."""
    pattern = _named(re.escape(component_prefix(component)))
    rows = server.conn.execute(
        "SELECT datname FROM pg_database WHERE datname ~ %s ORDER BY oid DESC", (pattern,)
    )
    return [r[0] for r in rows.fetchall()]


@dataclass(frozen=True)
class Kept:
    """A complete template on a server, as `db-dev-server --action=status` lists it."""

    name: str
    size_bytes: int


def on_server(server: Server) -> List[Kept]:
    """Every component's complete templates on the server: the disk they hold is ours to show."""
    pattern = _named(re.escape(PREFIX) + "[a-z0-9_]+_")
    rows = server.conn.execute(
        "SELECT datname, pg_database_size(oid) FROM pg_database"
        " WHERE datname ~ %s AND datistemplate ORDER BY datname",
        (pattern,),
    )
    return [Kept(name, size) for name, size in rows.fetchall()]


def _evict(server: Server, component: str, keep: str) -> None:
    """All but the newest `KEEP` templates of the component (always `keep`, just built), and
    half-built ones whose run is gone (killed while loading: its process id is in the name)."""
    others = [t for t in templates_of(server, component) if t != keep]
    for name in [*others[KEEP - 1 :], *_abandoned(server, component)]:
        _drop(server, name)


def _abandoned(server: Server, component: str) -> List[str]:
    pattern = _named(re.escape(component_prefix(component)), building=True)
    rows = server.conn.execute("SELECT datname FROM pg_database WHERE datname ~ %s", (pattern,))
    names = [r[0] for r in rows.fetchall()]
    return [n for n in names if not _running(int(n.rsplit("_", 1)[1]))]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop(server: Server, name: str) -> None:
    """A template (or a half-built one) dropped; left alone while a clone or session uses it."""
    try:
        server.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false"), name)
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {}"), name)
    except psycopg.Error:
        pass  # in use, or gone already: cleaning up never fails a load


def cannot_clone(component: str, source, error: BaseException) -> Problem:
    return Problem(
        title="Cannot create the database as a clone of the snapshot's template",
        details=(
            f"{component}: {source.url.masked()}: {mask(first_line(error), source.url.secrets())}",
            "Nothing was loaded; a half-built template was dropped.",
        ),
        actions=(
            "Check the role may connect to the server's `postgres` database and create databases"
            " (CREATEDB)",
            "Or create the database yourself and load into it: pants db-migrate --from-snapshot"
            " <component> (without --snapshot-template)",
        ),
        kind="snapshot_template_failed",
    )

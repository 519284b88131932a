"""A snapshot into a user's empty database: what it would fill, whether that is empty, the load.

"Empty" is what the issue's users mean by a fresh database: no version table, and no table in
any schema the snapshot creates tables in (nor in the version table's schema). Other schemas are
not looked at, so a database that also holds another component's tables elsewhere can still take
a snapshot; two components sharing one schema replay the second one.

The load is `pg_restore` into that database as the connecting role (`--no-owner`: everything is
then owned by it, as after a replay). It runs in one transaction (all or nothing) unless the
server cannot lock that many objects in one transaction (`max_locks_per_transaction`; a
5,000-table history needs more than a default server has): then object by object, told as such
(a refused one-transaction attempt changed nothing).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Set

import psycopg

from db_migrate.core.applied import split_table
from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import Problem, ProblemError, mask
from db_migrate.runner.postgres.server import pg_bin

# `pg_restore --list`: "218; 1259 16390 TABLE public users postgres". Kinds of several words
# first, so "TABLE DATA public users" is never read as a TABLE in schema "DATA".
_KINDS = (
    "MATERIALIZED VIEW DATA",
    "MATERIALIZED VIEW",
    "FK CONSTRAINT",
    "TABLE DATA",
    "TABLE ATTACH",
    "INDEX ATTACH",
    "SEQUENCE SET",
    "SEQUENCE OWNED BY",
    "TABLE",
    "SEQUENCE",
    "INDEX",
    "CONSTRAINT",
    "VIEW",
)
_TOC_ENTRY = re.compile(
    r"^\d+;\s+\d+\s+\d+\s+(?P<kind>" + "|".join(_KINDS) + r")\s+(?P<schema>\S+)\s+\S+"
)
# Entries whose creation holds a relation lock until the transaction ends.
_LOCKING = (
    "TABLE",
    "SEQUENCE",
    "INDEX",
    "CONSTRAINT",
    "FK CONSTRAINT",
    "VIEW",
    "MATERIALIZED VIEW",
)
_TOO_MANY_LOCKS = ("out of shared memory", "max_locks_per_transaction")
RELATION_KINDS = ("r", "p", "v", "m", "f")  # tables, partitioned, views, materialized, foreign


@dataclass(frozen=True)
class Contents:
    """What the snapshot's table of contents says, without loading it."""

    schemas: Set[str]  # the schemas it creates tables in
    locks: int  # about how many relation locks one transaction loading it holds


def contents(snapshot: Path) -> Contents:
    listing = subprocess.run(
        [str(pg_bin("pg_restore")), "--list", str(snapshot)], capture_output=True, text=True
    )
    if listing.returncode != 0:
        raise ProblemError(unreadable(snapshot, listing.stderr))
    entries = [m for m in map(_TOC_ENTRY.match, listing.stdout.splitlines()) if m]
    return Contents(
        schemas={m.group("schema") for m in entries if m.group("kind") == "TABLE"},
        locks=sum(1 for m in entries if m.group("kind") in _LOCKING),
    )


def lock_capacity(conn: psycopg.Connection) -> int:
    """How many object locks the server's shared lock table holds (PostgreSQL's formula)."""
    per, connections, prepared = (
        int(conn.execute(f"SHOW {name}").fetchone()[0])
        for name in ("max_locks_per_transaction", "max_connections", "max_prepared_transactions")
    )
    return per * (connections + prepared)


def occupied(conn: psycopg.Connection, schemas: Set[str], version_table: str) -> List[str]:
    """`schema.table` of the relations already in those schemas (and the version table's)."""
    schema, _ = split_table(version_table)
    wanted = sorted({*schemas, schema or _current_schema(conn)})
    rows = conn.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = ANY(%s) AND c.relkind = ANY(%s) ORDER BY 1",
        (wanted, list(RELATION_KINDS)),
    ).fetchall()
    return [r[0] for r in rows]


def _current_schema(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT coalesce(current_schema(), 'public')").fetchone()[0]


@dataclass(frozen=True)
class Loaded:
    one_transaction: bool
    retried_because: str = ""  # why it was not loaded in one transaction


def restore(url: DatabaseUrl, snapshot: Path, locks: int, capacity: int) -> Loaded:
    """pg_restore the snapshot; in one transaction when the server can lock it all at once.

    Half the lock table is the most one load may plan to take: other sessions hold locks too. A
    server that refuses anyway (a busier one) changed nothing, and the load runs again.
    """
    why = ""
    if locks <= capacity // 2:
        failure = _pg_restore(url, snapshot, one_transaction=True)
        if failure is None:
            return Loaded(True)
        if not any(marker in failure for marker in _TOO_MANY_LOCKS):
            raise ProblemError(load_failed(url, failure, one_transaction=True))
        why = _last_line(failure)
    else:
        why = f"about {locks} locks needed, the server's lock table holds {capacity}"
    retry = _pg_restore(url, snapshot, one_transaction=False)
    if retry is not None:
        raise ProblemError(load_failed(url, retry, one_transaction=False))
    return Loaded(False, why)


def _pg_restore(url: DatabaseUrl, snapshot: Path, one_transaction: bool) -> str | None:
    """None when it loaded; else what pg_restore said (its password reaches it by environment)."""
    flags = ["--single-transaction"] if one_transaction else []
    result = subprocess.run(
        [
            str(pg_bin("pg_restore")),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            *flags,
            f"--dbname={url.conninfo(password=False)}",
            str(snapshot),
        ],
        env={**os.environ, **url.libpq_env(), "PGOPTIONS": _options(os.environ)},
        capture_output=True,
        text=True,
    )
    return None if result.returncode == 0 else mask(result.stderr or "", url.secrets())


def _options(environ) -> str:
    """The user's PGOPTIONS, and commits that do not wait for the disk: object by object, every
    statement is a commit of its own, each an fsync on a durable server. Nothing is lost by it:
    the ledger's rows, written afterwards in an ordinary commit, flush the whole WAL before them.
    """
    return " ".join(o for o in (environ.get("PGOPTIONS", ""), "-c synchronous_commit=off") if o)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def unreadable(snapshot: Path, output: str) -> Problem:
    return Problem(
        title="Cannot read the snapshot",
        details=(f"pg_restore --list {snapshot.name}: {_last_line(output)}",),
        actions=(
            "This is a bug in pants-db-migrate: report it",
            "Replay instead: pants db-migrate <component> (without --from-snapshot)",
        ),
        kind="snapshot_unreadable",
    )


def load_failed(url: DatabaseUrl, output: str, one_transaction: bool) -> Problem:
    state = (
        "It ran in one transaction: the database is as empty as before."
        if one_transaction
        else "It ran object by object (too many objects for one transaction): the database"
        " holds part of the snapshot; drop and recreate it before another attempt."
    )
    return Problem(
        title="Loading the snapshot failed",
        details=(f"pg_restore into {url.masked()}: {_last_line(output)}", state),
        actions=(
            "Check the role may create the snapshot's objects (schemas, extensions) there",
            "Check the server's major version is at least the snapshot's (pg_restore --list)",
            "Replay instead: pants db-migrate <component> (without --from-snapshot)",
        ),
        kind="snapshot_load_failed",
    )


def not_empty(component: str, selector: str, where: str, found: Sequence[str], heads) -> Problem:
    shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    at = f"at revision {', '.join(heads)}" if heads else "with no version table"
    return Problem(
        title="The database is not empty: no snapshot loaded",
        details=(
            f"{component}: {where} already has {len(found)} table(s) ({shown}), {at}",
            "A snapshot is loaded only into an empty database; nothing was changed.",
        ),
        actions=(
            f"Migrate it from where it is: pants db-migrate {selector}",
            "Or start from an empty database (for the development server:"
            " pants db-dev-server --action=reset), then load the snapshot",
        ),
        kind="not_empty",
    )

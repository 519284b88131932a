"""A snapshot into a user's empty database: what it would fill, whether that is empty, the load.

"Empty" is what the issue's users mean by a fresh database: no version table, and no table in
any schema the snapshot creates tables in (nor in the version table's schema). Other schemas are
not looked at, so a database that also holds another component's tables elsewhere can still take
a snapshot; two components sharing one schema replay the second one.

The load is pg_restore's SQL for the dump, sent in a few large messages (`batches.py`) as the
connecting role (`--no-owner`: everything is then owned by it, as after a replay). It runs in one
transaction (all or nothing) unless the server cannot lock that many objects in one transaction
(`max_locks_per_transaction`; a 5,000-table history needs more than a default server has): then
in consecutive transactions that each fit, told as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Sequence, Set

import psycopg

from db_migrate.core.applied import split_table
from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import Problem, ProblemError, mask
from db_migrate.runner.postgres.errors import db_error_text
from db_migrate.runner.snapshot import batches
from db_migrate.runner.snapshot.toc import Contents, last_line

RELATION_KINDS = ("r", "p", "v", "m", "f")  # tables, partitioned, views, materialized, foreign
_TOO_MANY_LOCKS = ("out of shared memory", "max_locks_per_transaction")


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
    transactions: int = 1
    retried_because: str = ""  # why it was not loaded in one transaction

    @property
    def one_transaction(self) -> bool:
        return self.transactions == 1


def restore(url: DatabaseUrl, inside: Contents, capacity: int) -> Loaded:
    """Load the snapshot: in one transaction when the server can lock all of it at once, else in
    consecutive runs of entries that each fit.

    Half the lock table is the most one transaction may plan to take: other sessions hold locks
    too. A transaction the server refuses anyway (a busier one) changed nothing, and runs again
    as two halves.
    """
    runs = batches.transactions(inside.entries, max(1, capacity // 2))
    why = f"about {inside.locks} locks needed, the server's lock table holds {capacity}"
    why = why if len(runs) > 1 else ""
    committed = 0
    with _session(url) as conn, batches.Scripts(inside.snapshot) as scripts:
        while runs:
            run = runs.pop(0)
            try:
                _transaction(conn, scripts.of(run))
            except batches.RenderFailed as e:
                raise ProblemError(load_failed(url, last_line(str(e)), committed)) from None
            except batches.TooLarge as e:
                raise ProblemError(too_large(url, e, committed)) from None
            except psycopg.Error as e:
                said = mask(db_error_text(e), url.secrets())
                if len(run) < 2 or not _out_of_lock_space(e):
                    raise ProblemError(load_failed(url, said, committed)) from None
                runs[:0] = [run[: len(run) // 2], run[len(run) // 2 :]]
                why = why or said
                continue
            committed += 1
    return Loaded(committed, why)


def _out_of_lock_space(error: psycopg.Error) -> bool:
    said = f"{error} {error.diag.message_hint or ''}"
    return any(marker in said for marker in _TOO_MANY_LOCKS)


def _session(url: DatabaseUrl) -> psycopg.Connection:
    """A session of the load's own: the dump's SQL sets its search path and timeouts."""
    try:
        return psycopg.connect(
            url.conninfo(application_name="pants db-migrate (snapshot load)"),
            autocommit=True,
            prepare_threshold=None,
        )
    except psycopg.Error as e:
        raise ProblemError(load_failed(url, mask(db_error_text(e), url.secrets()), 0)) from None


def _transaction(conn: psycopg.Connection, scripts: Iterable[bytes]) -> None:
    """One transaction of messages; its commit does not wait for the disk: nothing is lost by
    that, since the ledger's rows, written afterwards in an ordinary commit, flush the WAL."""
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        for script in scripts:
            conn.execute(script)


def _state(committed: int) -> str:
    if not committed:
        return "Nothing of it was committed: the database is as empty as before."
    return (
        f"{committed} transaction(s) of it committed before (too many objects for one):"
        " the database holds part of the snapshot; drop and recreate it before another attempt."
    )


def too_large(url: DatabaseUrl, error: batches.TooLarge, committed: int) -> Problem:
    """One entry's SQL is more than PostgreSQL takes in a message: refused before it is sent."""
    return Problem(
        title="The snapshot is too large to load",
        details=(
            f"{error.entry.described} is {error.size / 1e6:,.0f} MB of SQL, more than PostgreSQL"
            f" takes in one message ({batches.SERVER_MESSAGE_LIMIT / 1e6:,.0f} MB), and one"
            " table's rows are never cut",
            f"Loading into {url.masked()}: {_state(committed)}",
        ),
        actions=("Replay instead: pants db-migrate <component> (without --from-snapshot)",),
        kind="snapshot_too_large",
    )


def load_failed(url: DatabaseUrl, said: str, committed: int) -> Problem:
    return Problem(
        title="Loading the snapshot failed",
        details=(f"Loading into {url.masked()}: {said}", _state(committed)),
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

"""One migration at a time per database: a PostgreSQL advisory lock held for the whole run.

The lock lives on its own session, so it is released by the server if this process dies
(kill -9 included), and a waiting run can say who holds it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import psycopg

from db_migrate.core.applied import lock_key
from db_migrate.core.report import Problem, ProblemError

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class LockHolder:
    pid: int
    application_name: str
    since: str
    client: str


def _holder_of(conn: psycopg.Connection, key: int) -> Optional[LockHolder]:
    row = conn.execute(
        """
        SELECT a.pid, coalesce(a.application_name, ''),
               to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ'),
               coalesce(host(a.client_addr), 'local')
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ((%(key)s >> 32) & 4294967295)::oid
          AND l.objid = (%(key)s & 4294967295)::oid
          AND l.objsubid = 1
        LIMIT 1
        """,
        {"key": key},
    ).fetchone()
    return LockHolder(*row) if row else None


def acquire(conn: psycopg.Connection, component: str, version_table: str, timeout: float) -> None:
    """Take the lock or raise the 'database is locked' problem after `timeout` seconds."""
    key = lock_key(version_table)
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            if announced:
                print(f"{component}: lock acquired", flush=True)
            return
        holder = _holder_of(conn, key)
        if time.monotonic() >= deadline:
            raise ProblemError(locked(component, timeout, holder))
        if not announced:
            who = (
                f"pid {holder.pid} ({holder.application_name or 'unknown client'})"
                if holder
                else "another session"
            )
            print(
                f"{component}: waiting up to {timeout:g} s for the migration lock held by {who} ...",
                flush=True,
            )
            announced = True
        time.sleep(POLL_SECONDS)


def locked(component: str, timeout: float, holder: Optional[LockHolder]) -> Problem:
    if holder:
        who = (
            f"Held by pid {holder.pid} (application '{holder.application_name or '?'}', "
            f"client {holder.client}) since {holder.since}"
        )
    else:
        who = "Held by another session"
    return Problem(
        title="Another migration is running",
        details=(f"Waited {timeout:g} s for the migration lock of {component}", who),
        actions=(
            "Wait for the other migration to finish, then retry",
            "Raise the wait with --lock-timeout=SECONDS",
            f"If the holder is stuck: SELECT pg_terminate_backend({holder.pid if holder else 'PID'});",
        ),
        kind="locked",
    )


def current_holder(conn: psycopg.Connection, version_table: str) -> Optional[LockHolder]:
    """Who holds the migration lock of this database right now (None: nobody)."""
    return _holder_of(conn, lock_key(version_table))

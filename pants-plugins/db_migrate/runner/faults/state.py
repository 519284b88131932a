"""Where the database is after a fault: read back from its version table, or honestly unknown.

The lock's own session is asked first (a terminated migration session or a timeout leaves it
working); otherwise new connections are tried for `STATE_WAIT` seconds, long enough for a
restarting server to take connections again, bounded so that a server that stays down gets a
report rather than a wait.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import psycopg

from db_migrate.core.applied import current_heads
from db_migrate.core.report import ProblemError
from db_migrate.runner.postgres.errors import db_error_text

STATE_WAIT = 10.0
_RETRY_EVERY = 0.5


@dataclass(frozen=True)
class StateAfter:
    heads: Optional[Tuple[str, ...]]  # None: unknown
    how: str  # where it was read, or why it could not be
    reachable: bool
    restarted: bool = False  # the server's start time is not the one it had when we connected
    started_at: object = None

    @property
    def known(self) -> bool:
        return self.heads is not None


def _read(conn: psycopg.Connection, version_table: str, started_at, how: str) -> StateAfter:
    heads = current_heads(conn, version_table)
    now = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
    return StateAfter(heads, how, True, started_at is not None and now != started_at, now)


def read_back(
    session: Optional[psycopg.Connection],
    reconnect: Callable[[], psycopg.Connection],
    version_table: str,
    started_at,
    wait: float = STATE_WAIT,
) -> StateAfter:
    """The version table's rows now: on `session` when it still works, else on a new connection
    (`reconnect`, which raises `ProblemError` when it cannot connect), tried for `wait` seconds."""
    if session is not None and not (session.broken or session.closed):
        try:
            return _read(session, version_table, started_at, "on the migration's own session")
        except psycopg.Error:
            pass
    began = time.monotonic()
    why = "no attempt"
    while True:
        try:
            with reconnect() as conn:
                waited = time.monotonic() - began
                return _read(
                    conn, version_table, started_at, f"after reconnecting, {waited:.1f} s later"
                )
        except ProblemError as e:
            why = e.problem.details[0] if e.problem.details else e.problem.title
        except psycopg.Error as e:
            why = db_error_text(e)
        if time.monotonic() - began >= wait:
            return StateAfter(None, f"{why}, for {wait:g} s after the failure", False)
        time.sleep(_RETRY_EVERY)

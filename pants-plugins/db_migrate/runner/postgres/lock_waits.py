"""Who a migration waits for when its statement waits for a lock: from `pg_locks` and
`pg_stat_activity`, while it waits.

When `lock_timeout` cancels the statement, its wait is gone and PostgreSQL's error names neither
the lock nor its holder; the user needs both (which table, which session, since when) to decide
whether to wait, retry or end that session. So a thread looks at the migration's session while
it runs, on our own connection: a cheap look at `pg_stat_activity` whether it waits for a lock,
and only then `pg_blocking_pids` (which briefly takes the lock manager's locks) for who holds it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import psycopg

from db_migrate.core.report import mask

_WAITING = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s"

_BLOCKERS = """
SELECT w.locktype, coalesce(w.relation::regclass::text, ''), w.mode,
       a.pid, coalesce(a.application_name, ''), coalesce(a.usename, ''),
       coalesce(host(a.client_addr), 'local'), coalesce(a.state, ''),
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.backend_start))::float8,
       coalesce(a.wait_event_type = 'Lock', false)
FROM pg_locks w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
JOIN pg_stat_activity a ON a.pid = b.pid
WHERE w.pid = %s AND NOT w.granted
ORDER BY a.xact_start NULLS LAST, a.pid
"""


def sql_mode(mode: str) -> str:
    """`AccessExclusiveLock` as SQL spells it: `ACCESS EXCLUSIVE`."""
    words = re.findall(r"[A-Z][a-z]*", re.sub(r"Lock$", "", mode))
    return " ".join(words).upper() or mode


def age(seconds: Optional[float]) -> str:
    """`42 s`, `3 min 5 s`, `2 h 10 min`: how long a transaction has been open."""
    if seconds is None:
        return "?"
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60} s"
    return f"{total // 3600} h {total % 3600 // 60} min"


@dataclass(frozen=True)
class Blocker:
    """A session the migration waits for: it holds the lock, or queued for it first."""

    pid: int
    application: str
    user: str
    client: str
    state: str
    transaction_seconds: Optional[float]
    waiting: bool = False  # queued ahead of the migration rather than holding the lock

    def describe(self) -> str:
        role = "queued ahead of it (waiting too)" if self.waiting else "held by"
        return mask(
            f"{role} pid {self.pid} (application '{self.application or '?'}', user"
            f" {self.user or '?'}, from {self.client}, {self.state or '?'}, in a transaction for"
            f" {age(self.transaction_seconds)})"
        )


@dataclass(frozen=True)
class LockWait:
    """What the migration's session waited for, and for whom."""

    locktype: str
    relation: str
    mode: str
    blockers: Tuple[Blocker, ...]

    def what(self) -> str:
        if self.locktype == "relation" and self.relation:
            return f"{sql_mode(self.mode)} lock on {self.relation}"
        if self.locktype == "transactionid":
            return "a row another transaction changed (it waits for that transaction to end)"
        return f"{sql_mode(self.mode)} lock ({self.locktype})"

    def lines(self) -> Tuple[str, ...]:
        """`waiting for: ...`, then one `held by: ...` per session it waited for."""
        return (mask(f"waiting for: {self.what()}"), *(b.describe() for b in self.blockers))

    @property
    def holder(self) -> Optional[Blocker]:
        """The session to look at first: the oldest one holding the lock."""
        holding = [b for b in self.blockers if not b.waiting]
        return (holding or list(self.blockers) or [None])[0]


def read_lock_wait(conn: psycopg.Connection, pid: int) -> Optional[LockWait]:
    """What session `pid` waits for right now (None: it waits for no lock)."""
    row = conn.execute(_WAITING, (pid,)).fetchone()
    if not row or not row[0]:
        return None
    rows = conn.execute(_BLOCKERS, (pid,)).fetchall()
    if not rows:
        return None
    locktype, relation, mode = rows[0][:3]
    blockers = tuple(Blocker(*r[3:]) for r in rows)
    return LockWait(locktype, relation, mode, blockers)


class LockWaitWatch:
    """While a block runs: the last lock wait seen of the session `migration_pid()` names."""

    def __init__(
        self,
        conn: psycopg.Connection,
        migration_pid: Callable[[], Optional[int]],
        interval: float,
    ) -> None:
        self.seen: Optional[LockWait] = None
        self._conn = conn
        self._pid = migration_pid
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-wait-watch", daemon=True)

    def __enter__(self) -> LockWaitWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            pid = self._pid()
            if pid is None:
                continue
            try:
                wait = read_lock_wait(self._conn, pid)
            except Exception:  # noqa: BLE001 - advice only: a failing look must not stop a run
                return
            if wait is not None:
                self.seen = wait

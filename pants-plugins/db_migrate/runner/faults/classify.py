"""Which fault a failure was: told from the error, from what the server said on the way (the
`ServerWatch`) and from what it says afterwards (`StateAfter`).

The same error can mean different things: `terminating connection due to administrator command`
(57P01) is what a session gets from `pg_terminate_backend` and from a fast shutdown alike; a
connection closed without a word is a crash, an immediate shutdown or a network that dropped it.
What tells them apart is whether the server answers afterwards, and whether it is still the same
server (its start time), so a fault is named only after the state was read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import psycopg

from db_migrate.runner.faults.state import StateAfter
from db_migrate.runner.faults.watch import ServerWatch
from db_migrate.runner.postgres.errors import db_error_text

ADMIN_SHUTDOWN = "57P01"  # pg_terminate_backend, or a smart or fast shutdown
CRASH_SHUTDOWN = "57P02"  # another server process crashed: every session is ended
QUERY_CANCELED = "57014"  # statement_timeout, or pg_cancel_backend
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout
IDLE_IN_TRANSACTION_TIMEOUT = "25P03"
IDLE_SESSION_TIMEOUT = "57P05"

_STATEMENT_STATES = (QUERY_CANCELED, LOCK_NOT_AVAILABLE)
_CONNECTION_STATES = (
    ADMIN_SHUTDOWN,
    CRASH_SHUTDOWN,
    IDLE_IN_TRANSACTION_TIMEOUT,
    IDLE_SESSION_TIMEOUT,
)

# The kinds of fault (each a `Problem.kind` of its own).
SESSION_TERMINATED = "session_terminated"
SERVER_RESTARTED = "server_restarted"
SERVER_SHUT_DOWN = "server_shut_down"
SERVER_STOPPED_IMMEDIATELY = "server_stopped_immediately"
SERVER_CRASHED = "server_crashed"
CONNECTION_LOST = "connection_lost"
NETWORK_SILENT = "network_silent"
STATEMENT_TIMEOUT = "statement_timeout"
STATEMENT_CANCELED = "statement_canceled"
LOCK_TIMEOUT = "lock_timeout"


@dataclass(frozen=True)
class Symptom:
    """What the failure itself says: the server's SQLSTATE and words, or a connection gone."""

    sqlstate: Optional[str]
    message: str
    connection: bool  # the connection is gone (else one statement failed on a live connection)


def _chain(error: Optional[BaseException]) -> Iterator[BaseException]:
    """The error, the driver's error under SQLAlchemy's, and what caused or preceded them."""
    seen, queue = set(), [error]
    while queue and len(seen) < 20:
        current = queue.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        queue += [getattr(current, "orig", None), current.__cause__, current.__context__]


def symptom(error: Optional[BaseException]) -> Optional[Symptom]:
    """The server-side fault in `error`, None when there is none (the revision's, or ours)."""
    drivers = [e for e in _chain(error) if isinstance(e, psycopg.Error)]
    for e in drivers:  # the server's own reason wins over the closed connection it left
        if e.sqlstate in _STATEMENT_STATES or e.sqlstate in _CONNECTION_STATES:
            return Symptom(e.sqlstate, db_error_text(e), e.sqlstate in _CONNECTION_STATES)
    for e in drivers:
        if isinstance(e, psycopg.OperationalError) and e.sqlstate is None:
            return Symptom(None, db_error_text(e), True)
    return None


def kind(seen: Symptom, watch: Optional[ServerWatch], after: StateAfter) -> str:
    """The fault, from the symptom and the evidence."""
    if watch is not None and watch.silent_for is not None:
        return NETWORK_SILENT
    if not seen.connection:
        if seen.sqlstate == LOCK_NOT_AVAILABLE:
            return LOCK_TIMEOUT
        return STATEMENT_TIMEOUT if "statement timeout" in seen.message else STATEMENT_CANCELED
    if seen.sqlstate == CRASH_SHUTDOWN or (watch is not None and watch.saw(CRASH_SHUTDOWN)):
        return SERVER_CRASHED
    if watch is not None and watch.saw(ADMIN_SHUTDOWN, "immediate shutdown"):
        return SERVER_STOPPED_IMMEDIATELY
    if after.restarted:
        return SERVER_RESTARTED
    if seen.sqlstate == ADMIN_SHUTDOWN:
        return SESSION_TERMINATED if after.reachable else SERVER_SHUT_DOWN
    if seen.sqlstate in (IDLE_IN_TRANSACTION_TIMEOUT, IDLE_SESSION_TIMEOUT):
        return SESSION_TERMINATED
    return CONNECTION_LOST

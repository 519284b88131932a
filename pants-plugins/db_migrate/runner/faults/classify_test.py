"""What real PostgreSQL failures say, and which fault each is once the evidence is in."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import create_engine, exc, pool, text

from db_migrate.runner.faults import classify as c
from db_migrate.runner.faults.classify import Symptom, kind, symptom
from db_migrate.runner.faults.state import StateAfter
from db_migrate.runner.faults.watch import ServerWatch


def _failure(action) -> BaseException:
    with pytest.raises(Exception) as raised:
        action()
    return raised.value


def _after(seconds: float, action) -> None:
    threading.Timer(seconds, action).start()


def test_a_terminated_session_is_a_connection_fault(pg_server, pg_database):
    admin = pg_server.connect()
    conn = pg_server.connect(pg_database)
    pid = conn.info.backend_pid
    _after(0.5, lambda: admin.execute("SELECT pg_terminate_backend(%s)", (pid,)))
    seen = symptom(_failure(lambda: conn.execute("SELECT pg_sleep(30)")))
    assert seen == Symptom(
        c.ADMIN_SHUTDOWN, "terminating connection due to administrator command", True
    )


def test_a_connection_closed_under_a_statement_is_a_connection_fault(pg_server, pg_database):
    conn = pg_server.connect(pg_database)

    def cut() -> None:
        sock = socket.socket(fileno=conn.pgconn.socket)
        sock.shutdown(socket.SHUT_RDWR)
        sock.detach()

    _after(0.5, cut)
    seen = symptom(_failure(lambda: conn.execute("SELECT pg_sleep(30)")))
    assert seen is not None and seen.connection and seen.sqlstate is None
    assert "server closed the connection" in seen.message


def test_timeouts_are_statement_faults(pg_server, pg_database):
    with pg_server.connect(pg_database) as conn:
        conn.execute("SET statement_timeout = '200ms'")
        seen = symptom(_failure(lambda: conn.execute("SELECT pg_sleep(5)")))
        assert seen == Symptom(
            c.QUERY_CANCELED, "canceling statement due to statement timeout", False
        )
        conn.execute("CREATE TABLE held (id int)")
    with pg_server.connect(pg_database) as holder, pg_server.connect(pg_database) as conn:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE held")
        conn.execute("SET lock_timeout = '200ms'")
        seen = symptom(_failure(lambda: conn.execute("ALTER TABLE held ADD COLUMN x int")))
        assert seen == Symptom(
            c.LOCK_NOT_AVAILABLE, "canceling statement due to lock timeout", False
        )


def test_sqlalchemy_wrapping_and_a_later_error_hide_nothing(pg_server, pg_database):
    engine = create_engine(pg_server.url(pg_database), poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text("SET statement_timeout = '200ms'"))
        wrapped = _failure(lambda: conn.execute(text("SELECT pg_sleep(5)")))
    assert isinstance(wrapped, exc.OperationalError)
    try:
        raise RuntimeError("rolling back failed too") from wrapped
    except RuntimeError as later:
        assert symptom(later).sqlstate == c.QUERY_CANCELED


def test_errors_of_a_revision_or_of_ours_are_no_fault(pg_server, pg_database):
    with pg_server.connect(pg_database) as conn:
        assert symptom(_failure(lambda: conn.execute("SELECT 1/0"))) is None
        assert symptom(_failure(lambda: conn.execute("SELECT * FROM missing"))) is None
    assert symptom(ValueError("ours")) is None
    assert symptom(None) is None


REACHABLE = StateAfter((), "on the migration's own session", True)
RESTARTED = StateAfter((), "after reconnecting", True, restarted=True)
DOWN = StateAfter(None, "Connection refused", False)
TERMINATED = Symptom(c.ADMIN_SHUTDOWN, "terminating connection due to administrator command", True)
CLOSED = Symptom(None, "server closed the connection unexpectedly", True)


@pytest.mark.parametrize(
    "seen, after, expected",
    [
        (TERMINATED, REACHABLE, c.SESSION_TERMINATED),  # the server kept running
        (TERMINATED, RESTARTED, c.SERVER_RESTARTED),  # a fast restart says the same words
        (TERMINATED, DOWN, c.SERVER_SHUT_DOWN),
        (CLOSED, RESTARTED, c.SERVER_RESTARTED),
        (CLOSED, REACHABLE, c.CONNECTION_LOST),
        (CLOSED, DOWN, c.CONNECTION_LOST),
        (
            Symptom(c.CRASH_SHUTDOWN, "crash of another server process", True),
            REACHABLE,
            c.SERVER_CRASHED,
        ),
        (
            Symptom(c.QUERY_CANCELED, "canceling statement due to statement timeout", False),
            REACHABLE,
            c.STATEMENT_TIMEOUT,
        ),
        (
            Symptom(c.QUERY_CANCELED, "canceling statement due to user request", False),
            REACHABLE,
            c.STATEMENT_CANCELED,
        ),
        (
            Symptom(c.LOCK_NOT_AVAILABLE, "canceling statement due to lock timeout", False),
            REACHABLE,
            c.LOCK_TIMEOUT,
        ),
        (
            Symptom(
                c.IDLE_SESSION_TIMEOUT, "terminating connection due to idle-session timeout", True
            ),
            REACHABLE,
            c.SESSION_TERMINATED,
        ),
    ],
)
def test_the_evidence_names_the_fault(seen, after, expected):
    assert kind(seen, None, after) == expected


def test_what_the_server_said_on_the_way_and_silence_come_first(pg_server, pg_database):
    with pg_server.connect(pg_database) as conn, ServerWatch(conn, timeout=0) as watch:
        watch.notices.append(
            (c.ADMIN_SHUTDOWN, "terminating connection due to immediate shutdown command")
        )
        assert kind(CLOSED, watch, DOWN) == c.SERVER_STOPPED_IMMEDIATELY
        watch.notices.append(
            (c.CRASH_SHUTDOWN, "terminating connection because of crash of another server process")
        )
        assert kind(CLOSED, watch, DOWN) == c.SERVER_CRASHED
        watch.silent_for = 31.0
        assert kind(CLOSED, watch, DOWN) == c.NETWORK_SILENT

"""The watch against real faults: a proxy gone silent, a lock session ended, a server going away."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from testsupport.silent_proxy import silent_proxy

from db_migrate.runner.faults import classify as c
from db_migrate.runner.faults.watch import ServerWatch
from db_migrate.runner.postgres.server import throwaway_server

DURABLE = (("fsync", "off"), ("full_page_writes", "off"))


def _through(server, port: int, **params) -> psycopg.Connection:
    """A connection to `server` by way of `port` (a proxy's)."""
    return psycopg.connect(make_conninfo(server.conninfo(), port=port, **params), autocommit=True)


def _waiting_fails(conn: psycopg.Connection, sql: str = "SELECT pg_sleep(60)") -> float:
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        conn.execute(sql)
    return time.monotonic() - started


def test_a_silent_network_fails_the_waiting_statement_within_the_timeout(pg_server):
    with silent_proxy(pg_server.port) as proxy:
        lock_session = _through(pg_server, proxy.port)
        migration = _through(pg_server, proxy.port)
        with lock_session, migration, ServerWatch(lock_session, timeout=2) as watch:
            watch.add(migration, "the migration's session")
            threading.Timer(0.5, proxy.go_silent).start()
            took = _waiting_fails(migration)
        assert watch.silent_for is not None and watch.silent_for >= 2
        # Bounded: the statement would have waited 60 s (a loaded machine gets a margin).
        assert took < 2 + 0.5 + 7
        assert watch.lock_session_error is None
        # The ping that was waiting too has failed by now: nothing uses the session after the block.
        assert lock_session.closed


def test_leaving_the_watch_while_the_network_is_silent_leaves_no_ping_waiting(pg_server):
    """A block that ends before the verdict: its ping would wait for ever and hold the session, so
    the next statement on it (releasing the lock, reading the version table) would hang."""
    with silent_proxy(pg_server.port) as proxy:
        lock_session = _through(pg_server, proxy.port)
        with contextlib.closing(lock_session):
            with ServerWatch(lock_session, timeout=2):
                proxy.go_silent()
                time.sleep(1)  # a ping (every 2/3 s) is waiting for its answer now
            failed = threading.Event()

            def next_statement() -> None:
                with contextlib.suppress(psycopg.OperationalError):
                    lock_session.execute("SELECT 1")
                    return
                failed.set()

            threading.Thread(target=next_statement, daemon=True).start()
            assert failed.wait(10)


def test_without_the_watch_the_same_silence_hangs(pg_server):
    """What the watch is for: libpq waits for ever, keepalives or not (the proxy answers them)."""
    done = threading.Event()
    with silent_proxy(pg_server.port) as proxy, _through(
        pg_server, proxy.port, keepalives_idle=1, keepalives_interval=1
    ) as conn:
        proxy.go_silent()

        def wait() -> None:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_sleep(60)")
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        assert not done.wait(8)
        proxy.heal()
        assert done.wait(10)


def test_a_terminated_lock_session_stops_the_run(pg_server):
    with pg_server.connect() as admin, pg_server.connect() as lock_session, pg_server.connect() as migration:
        with ServerWatch(lock_session, timeout=3) as watch:
            watch.add(migration, "the migration's session")
            pid = lock_session.info.backend_pid
            threading.Timer(0.5, admin.execute, ("SELECT pg_terminate_backend(%s)", (pid,))).start()
            took = _waiting_fails(migration)
        assert took < 10  # the next ping (every second) finds the session gone
        assert watch.silent_for is None
        assert c.symptom(watch.lock_session_error).sqlstate == c.ADMIN_SHUTDOWN
        assert watch.sessions[pid] == "the session holding the migration lock"


def test_what_the_server_says_as_it_goes_is_kept():
    """An immediate shutdown, then a crash of a server process (a backend killed with SIGKILL,
    the way the out-of-memory killer does): each session hears why before it is closed."""
    with throwaway_server(settings=DURABLE) as server:
        with server.connect() as lock_session, ServerWatch(lock_session, timeout=0) as watch:
            migration = server.connect()
            watch.add(migration, "the migration's session")
            stopping = threading.Timer(0.5, server.stop, kwargs={"mode": "immediate"})
            stopping.start()
            _waiting_fails(migration)
        assert watch.saw(c.ADMIN_SHUTDOWN, "immediate shutdown")
        assert not watch.saw(c.CRASH_SHUTDOWN)

        # Sessions hear of the shutdown before `pg_ctl stop` has seen the server go: a start in
        # between finds it still running and does nothing, and the stop then ends it (CI did so).
        stopping.join()
        server.start()
        with server.connect() as lock_session, ServerWatch(lock_session, timeout=0) as watch:
            victim = server.connect()
            migration = server.connect()
            watch.add(migration, "the migration's session")
            pid = victim.info.backend_pid
            threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
            _waiting_fails(migration)
        assert watch.saw(c.CRASH_SHUTDOWN)

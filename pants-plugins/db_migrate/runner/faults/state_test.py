"""Reading the state back after a fault: on the session that survived, on a new one, or unknown."""

from __future__ import annotations

import time

import psycopg

from db_migrate.core.database_url import DatabaseUrl, UrlSource
from db_migrate.runner.faults.state import read_back
from db_migrate.runner.postgres.database import connect
from db_migrate.runner.postgres.server import throwaway_server

TABLE = "alembic_version"


def _started(conn: psycopg.Connection):
    return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_read_on_the_surviving_session(pg_server, pg_database):
    with pg_server.connect(pg_database) as conn:
        conn.execute(f"CREATE TABLE {TABLE} (version_num varchar(32))")
        conn.execute(f"INSERT INTO {TABLE} VALUES ('0deb1ff2f24a')")
        state = read_back(conn, lambda: None, TABLE, _started(conn))
    assert state.heads == ("0deb1ff2f24a",)
    assert state.how == "on the migration's own session"
    assert state.reachable and not state.restarted


def test_a_restarted_server_is_read_on_a_new_session_and_said_restarted():
    with throwaway_server() as server, server.connect() as conn:
        started = _started(conn)
        server.restart()
        state = read_back(conn, server.connect, TABLE, started)
    assert state.heads == ()  # no version table: nothing applied
    assert state.how.startswith("after reconnecting")
    assert state.reachable and state.restarted


def test_a_server_that_stays_down_leaves_the_state_unknown_and_says_why():
    with throwaway_server() as server:
        source = UrlSource(DatabaseUrl.parse(server.url()), True, "ACCOUNTMGR_DB_URL")
        with server.connect() as conn:
            started = _started(conn)
        server.stop(mode="immediate")
        began = time.monotonic()
        state = read_back(None, lambda: connect(source, "accountmgr", 1), TABLE, started, wait=1.5)
        assert 1.5 <= time.monotonic() - began < 5
    assert state.heads is None and not state.known and not state.reachable
    assert state.how == f"Connection refused to {server.address}, for 1.5 s after the failure"

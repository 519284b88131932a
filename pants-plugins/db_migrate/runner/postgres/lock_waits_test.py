from __future__ import annotations

import threading
import time

import psycopg
from testsupport import postgres as pgtesting

from db_migrate.core.report import register_secret
from db_migrate.runner.postgres.lock_waits import (
    Blocker,
    LockWait,
    LockWaitWatch,
    age,
    read_lock_wait,
    sql_mode,
)

# The real-PostgreSQL fixtures (see server_test.py for why they are bound here).
pg_server = pgtesting.pg_server
pg_database = pgtesting.pg_database


def test_lock_modes_as_sql_spells_them():
    assert sql_mode("AccessExclusiveLock") == "ACCESS EXCLUSIVE"
    assert sql_mode("ShareRowExclusiveLock") == "SHARE ROW EXCLUSIVE"
    assert sql_mode("RowExclusiveLock") == "ROW EXCLUSIVE"


def test_how_long_a_transaction_has_been_open():
    assert age(None) == "?"
    assert age(3.7) == "3 s"
    assert age(95) == "1 min 35 s"
    assert age(2 * 3600 + 10 * 60 + 5) == "2 h 10 min"


def test_a_holder_is_described_without_a_secret_it_carries():
    register_secret("hunter2-secret")
    blocker = Blocker(7, "etl for hunter2-secret", "app", "10.0.0.5", "active", 12.0)
    text = blocker.describe()
    assert "hunter2-secret" not in text and "***" in text
    assert text.startswith("held by pid 7 (application 'etl for ***', user app")


def test_the_session_to_look_at_first_holds_the_lock_rather_than_queues_for_it():
    queued = Blocker(1, "other migration", "app", "local", "active", 1.0, waiting=True)
    holding = Blocker(2, "worker", "app", "local", "idle in transaction", 60.0)
    wait = LockWait("relation", "hot", "AccessExclusiveLock", (queued, holding))
    assert wait.holder == holding
    assert wait.lines()[1].startswith("queued ahead of it (waiting too) pid 1")
    row_wait = LockWait("transactionid", "", "ShareLock", (holding,))
    assert "a row another transaction changed" in row_wait.what()


def _until(read, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not seen in time")


def _alter_in_thread(conninfo: str, sql: str):
    """A session that runs `sql` (waiting for its lock) in a thread; its pid and the thread."""
    conn = psycopg.connect(conninfo, autocommit=True, application_name="the migration")
    errors: list = []

    def run() -> None:
        try:
            conn.execute("SET lock_timeout = '60s'")
            conn.execute(sql)
        except psycopg.Error as e:
            errors.append(e)
        finally:
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return conn.info.backend_pid, thread, errors


def test_who_a_waiting_alter_table_waits_for(pg_server, pg_database):
    conninfo = pg_server.conninfo(pg_database)
    with psycopg.connect(conninfo, autocommit=True) as setup:
        setup.execute("CREATE TABLE hot (id int PRIMARY KEY, n int)")
        setup.execute("INSERT INTO hot VALUES (1, 0)")
    holder = psycopg.connect(conninfo, application_name="billing-worker")
    holder.execute("UPDATE hot SET n = n + 1 WHERE id = 1")  # a transaction left open
    holder_pid = holder.info.backend_pid
    watcher = psycopg.connect(conninfo, autocommit=True)
    try:
        first, first_thread, errors = _alter_in_thread(
            conninfo, "ALTER TABLE hot ADD COLUMN a text"
        )
        with LockWaitWatch(watcher, lambda: first, 0.05) as watch:
            seen = _until(lambda: watch.seen)
        second, second_thread, _ = _alter_in_thread(conninfo, "ALTER TABLE hot ADD COLUMN b text")
        queued = _until(lambda: read_lock_wait(watcher, second))
        assert read_lock_wait(watcher, holder_pid) is None  # it waits for nothing
    finally:
        holder.commit()
        holder.close()
    first_thread.join(30)
    second_thread.join(30)
    assert not errors
    assert (seen.locktype, seen.relation, seen.mode) == ("relation", "hot", "AccessExclusiveLock")
    assert [b.pid for b in seen.blockers] == [holder_pid]
    (blocker,) = seen.blockers
    assert (blocker.application, blocker.state, blocker.waiting) == (
        "billing-worker",
        "idle in transaction",
        False,
    )
    assert blocker.transaction_seconds is not None and blocker.transaction_seconds >= 0
    assert seen.lines()[0] == "waiting for: ACCESS EXCLUSIVE lock on hot"
    # The second ALTER waits for the holder and for the first ALTER queued ahead of it.
    assert {b.pid for b in queued.blockers} == {holder_pid, first}
    assert queued.holder.pid == holder_pid
    assert read_lock_wait(watcher, first) is None  # once the wait is over
    watcher.close()

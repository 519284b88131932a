"""Lock waits that never stall traffic, against a real PostgreSQL and a real application session.

A revision's `ALTER TABLE` that waits for a lock held by a long application transaction queues
every later query on the table behind it. With a short `lock_timeout` the wait is cancelled, the
revision rolled back, and after a pause run again: readers of the table wait at most one
`lock_timeout`, the migration goes through once the transaction ends, and when it never ends the
error names the session that held the lock.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import psycopg
from e2e.conftest import COMPONENTS, add_revision

MANAGER = "src/ai/backend/manager::"
APPPROXY = "src/ai/backend/appproxy::"
LOCK_TIMEOUT = 1.0  # seconds: each test's repo copy sets lock_timeout="1s" on the component
# How much longer than one lock_timeout a reader may wait on a loaded 2-CPU machine: the time
# for a cancelled statement's rollback to release the queue and for the reader thread to run.
MARGIN = 1.0


def set_lock_timeout(repo, component: str, value: str) -> None:
    build = f"{COMPONENTS[component][0]}/BUILD"
    text = repo.read(build)
    marker = f'component="{component}",'
    assert marker in text
    repo.write(build, text.replace(marker, f'{marker}\n    lock_timeout="{value}",'))


def hot_table(db) -> None:
    """A table the application uses: the revisions under test alter it."""
    db.query("CREATE TABLE hot (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)")
    db.query("INSERT INTO hot (id) SELECT generate_series(1, 100)")


def columns(db, table: str) -> set:
    return {
        r[0]
        for r in db.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", table
        )
    }


class Holder:
    """An application transaction left open: it updated a row of `hot` and has not committed
    (it holds ROW EXCLUSIVE: readers go on, an ALTER TABLE waits)."""

    def __init__(self, db) -> None:
        self.conn = psycopg.connect(db.server.conninfo(db.name), application_name="billing-worker")
        self.conn.execute("UPDATE hot SET n = n + 1 WHERE id = 1")
        self.pid = self.conn.info.backend_pid

    def commit(self) -> None:
        self.conn.commit()
        self.conn.close()


class Reader(threading.Thread):
    """The application's traffic: reads `hot` in a loop, and keeps the longest a read waited."""

    def __init__(self, db) -> None:
        super().__init__(daemon=True)
        self.conninfo = db.server.conninfo(db.name)
        self.longest = 0.0
        self.reads = 0
        self.done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, application_name="reader") as conn:
            while not self.done.is_set():
                started = time.monotonic()
                conn.execute("SELECT count(*) FROM hot").fetchone()
                self.longest = max(self.longest, time.monotonic() - started)
                self.reads += 1
                time.sleep(0.005)

    def stop(self) -> None:
        self.done.set()
        self.join(30)


def migration_waiting(db, component: str):
    """The pid of the migration's session while it waits for a lock, else None."""
    rows = db.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
        f"pants db-migrate ({component}): alembic",
    )
    return rows[0][0] if rows else None


def still_waiting(db, pid: int) -> bool:
    return bool(
        db.query("SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", pid)
    )


def wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"db-migrate ended before {what}:\n{process.communicate()[0]}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting until {what}")


def migrate_while_held(repo, db, component: str, selector: str, env: dict):
    """Run db-migrate while an application transaction holds a lock its revision needs and a
    reader reads the table; the transaction commits once the first try timed out."""
    holder, reader = Holder(db), Reader(db)
    reader.start()
    migrate = subprocess.Popen(
        ["./pants", "db-migrate", selector],
        cwd=repo.root,
        env={**repo.base_env(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = wait_until(lambda: migration_waiting(db, component), migrate, "a try waited")
        wait_until(lambda: not still_waiting(db, first), migrate, "the first try timed out")
        holder.commit()
        out, _ = migrate.communicate(timeout=600)
    finally:
        reader.stop()
        if migrate.poll() is None:
            migrate.kill()
    return migrate.returncode, out, holder, reader


def test_a_revision_waiting_for_a_lock_is_retried_while_the_table_keeps_serving(
    private_repo, new_database, histories
):
    repo, head = private_repo, histories["manager"].head
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    set_lock_timeout(repo, "manager", "1s")
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    hot_table(db)
    add_revision(
        repo,
        "manager",
        "10c0000000a1",
        head,
        "Add hot note",
        upgrade='op.execute("ALTER TABLE hot ADD COLUMN note text")',
        downgrade='op.execute("ALTER TABLE hot DROP COLUMN note")',
    )
    dry = repo.run("db-migrate", "--dry-run", MANAGER, env=env)
    assert dry.returncode == 0, dry
    assert (
        "Lock waits: lock_timeout 1s per lock; a revision that times out is rolled back and"
        " retried, up to 5 times (lock_retries), after 1-2 s, 2-4 s, 4-8 s, 8-16 s, 16-32 s"
    ) in dry.stdout, dry

    # The holder never lets go: after its one retry the run stops and names it.
    holder = Holder(db)
    try:
        refused = repo.run(
            "db-migrate", "--lock-retries=1", "--report-file=dist/locked.json", MANAGER, env=env
        )
    finally:
        holder.commit()
    assert refused.returncode == 1, refused
    assert "Traceback" not in refused.output
    assert (
        "❌ Error: Migration 10c0000000a1 could not get a lock within lock_timeout (1s)"
        in refused.stderr
    ), refused
    assert "waited 1s for a lock 2 times" in refused.stderr
    assert "Waiting for: ACCESS EXCLUSIVE lock on hot" in refused.stderr
    assert f"Held by pid {holder.pid} (application 'billing-worker'" in refused.stderr
    assert "idle in transaction, in a transaction for" in refused.stderr
    assert f"SELECT pg_terminate_backend({holder.pid});" in refused.stderr
    assert f"The database is at {head} (checked)" in refused.stderr
    assert db.versions("alembic_version") == (head,) and "note" not in columns(db, "hot")
    (component,) = json.loads(repo.read("dist/locked.json"))["components"]
    assert component["status"] == "failed" and component["error"]["kind"] == "lock_timeout"
    assert [w["holder"]["pid"] for w in component["lock_waits"]] == [holder.pid] * 2

    # A plain rerun while the holder commits after the first try: the retry goes through, and
    # a reader of the table never waited longer than one lock_timeout.
    code, out, holder, reader = migrate_while_held(repo, db, "manager", MANAGER, env)
    assert code == 0, out
    assert "✗ 10c0000000a1 timed out waiting for a lock (lock_timeout 1s): rolled back" in out
    assert f"held by pid {holder.pid} (application 'billing-worker'" in out
    assert "retry 1 of 5 in" in out and "✅ Migration successful" in out
    assert db.versions("alembic_version") == ("10c0000000a1",) and "note" in columns(db, "hot")
    assert reader.reads > 10
    assert reader.longest < LOCK_TIMEOUT + MARGIN, reader.longest
    # It did queue behind the waiting ALTER TABLE: the stall measured is the one lock_timeout bounds.
    assert reader.longest > LOCK_TIMEOUT / 2, reader.longest


def test_one_transaction_for_the_whole_run_is_retried_as_a_whole(
    private_repo, new_database, histories
):
    repo, head = private_repo, histories["appproxy"].head
    db = new_database()
    env = {"APPPROXY_DB_URL": db.url}
    table = COMPONENTS["appproxy"][2]
    set_lock_timeout(repo, "appproxy", "1s")
    assert repo.run("db-migrate", APPPROXY, env=env).returncode == 0
    hot_table(db)
    add_revision(
        repo,
        "appproxy",
        "10c0000000b1",
        head,
        "Add marker",
        upgrade='op.execute("CREATE TABLE marker (id int)")',
        downgrade='op.execute("DROP TABLE marker")',
    )
    add_revision(
        repo,
        "appproxy",
        "10c0000000b2",
        "10c0000000b1",
        "Add hot note",
        upgrade='op.execute("ALTER TABLE hot ADD COLUMN note text")',
        downgrade='op.execute("ALTER TABLE hot DROP COLUMN note")',
    )
    dry = repo.run("db-migrate", "--dry-run", APPPROXY, env=env)
    assert dry.returncode == 0, dry
    assert "Transactions: one transaction for the whole run" in dry.stdout
    assert (
        "Lock waits: lock_timeout 1s per lock; a lock timeout rolls back the whole run (one"
        " transaction), which is retried while none of it has committed, up to 5 times"
    ) in dry.stdout, dry

    code, out, holder, reader = migrate_while_held(repo, db, "appproxy", APPPROXY, env)
    assert code == 0, out
    assert (
        "✗ 10c0000000b2 timed out waiting for a lock (lock_timeout 1s): the whole run was rolled back"
        in out
    ), out
    assert "retry 1 of 5 of the whole run in" in out
    assert f"held by pid {holder.pid} (application 'billing-worker'" in out
    assert db.versions(table) == ("10c0000000b2",)
    assert "marker" in db.tables() and "note" in columns(db, "hot")
    assert reader.longest < LOCK_TIMEOUT + MARGIN, reader.longest

"""Faults of the server and the network, produced for real in the middle of a slow revision.

Each test runs `./pants db-migrate` against a PostgreSQL of its own, waits until the slow revision
is running (its statement shows in pg_stat_activity), injects the fault (a session terminated, the
server restarted or stopped immediately, the network silenced, a timeout, a full disk), and checks
the error the user reads, the exit code, the database afterwards, and that a plain rerun completes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from e2e.conftest import COMPONENTS, _isolated_copy, _shutdown, add_revision
from e2e.pants_repo import PantsRepo, PantsResult
from testsupport.silent_proxy import silent_proxy

from db_migrate.runner.postgres.server import LocalServer, throwaway_server

# The slow revision waits while `fault_hold` has a row (at most 120 s): a test holds it there to
# inject its fault, and a rerun without the row runs it at once. Each statement of a DO block
# reads a fresh snapshot, so a row deleted by the test is seen.
HOLD = (
    "DO $$ BEGIN FOR i IN 1..1200 LOOP EXIT WHEN NOT EXISTS (SELECT 1 FROM fault_hold);"
    " PERFORM pg_sleep(0.1); END LOOP; END $$"
)
NOT_OURS = ("Traceback", "bug in pants-db-migrate", "Review the migration file")


@dataclass(frozen=True)
class Component:
    name: str
    slow: str  # the slow revision's id

    @property
    def spec(self) -> str:
        return f"src/ai/backend/{self.name}::"

    @property
    def target(self) -> str:
        """The component as its messages name it."""
        return f"src/ai/backend/{self.name}/models/alembic:migrations"

    @property
    def build(self) -> str:
        return f"src/ai/backend/{self.name}/models/alembic/BUILD"

    @property
    def url_env(self) -> str:
        return f"{self.name.upper()}_DB_URL"

    @property
    def version_table(self) -> str:
        return COMPONENTS[self.name][2]


# One transaction per revision; one transaction for the whole run (its env.py's choice).
ACCOUNTMGR = Component("accountmgr", "fa17fa17fa17")
APPPROXY = Component("appproxy", "fa17fa17fa18")
SLOW = ACCOUNTMGR.slow


@pytest.fixture(scope="module")
def fault_repo(tmp_path_factory, histories) -> Iterator[PantsRepo]:
    """One copy for the module, with a slow revision on top of each component's head."""
    copy = _isolated_copy(tmp_path_factory.mktemp("faults"))
    for component in (ACCOUNTMGR, APPPROXY):
        add_revision(
            copy,
            component.name,
            component.slow,
            histories[component.name].head,
            "Slow backfill",
            upgrade="\n".join(
                [
                    'op.execute("CREATE TABLE fault_log (n int)")',
                    f"op.execute({HOLD!r})",
                    'op.execute("ALTER TABLE fault_target ADD COLUMN note text")',
                    'op.execute("INSERT INTO fault_log VALUES (1)")',
                ]
            ),
            downgrade='op.execute("ALTER TABLE fault_target DROP COLUMN note")\n'
            'op.drop_table("fault_log")',
        )
    warm = copy.run("lint", "--only=alembic-history", ACCOUNTMGR.spec, APPPROXY.spec)
    assert warm.returncode == 0, warm
    yield copy
    _shutdown(copy)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A PostgreSQL of the test's own: tests restart and stop it. Commits are durable against a
    stopped server (synchronous_commit on); only an OS crash could lose them (no fsync)."""
    with throwaway_server(settings=(("fsync", "off"), ("full_page_writes", "off"))) as own:
        yield own


@dataclass(frozen=True)
class Target:
    """The test's database for a component, with the tables the slow revision reads and alters."""

    server: LocalServer
    component: Component = ACCOUNTMGR
    name: str = "faults"

    def url(self, port: int = 0) -> str:
        return self.server.url(self.name).replace(
            f":{self.server.port}/", f":{port or self.server.port}/"
        )

    def env(self, port: int = 0) -> dict:
        return {self.component.url_env: self.url(port)}

    def query(self, sql: str, *params) -> list:
        with psycopg.connect(self.server.conninfo(self.name), autocommit=True) as conn:
            cur = conn.execute(sql, params or None)
            return cur.fetchall() if cur.description else []

    def versions(self) -> tuple:
        table = self.component.version_table
        if not self.query("SELECT to_regclass(%s) IS NOT NULL", table)[0][0]:
            return ()
        return tuple(r[0] for r in self.query(f"SELECT version_num FROM {table}"))

    def has_table(self, name: str) -> bool:
        return self.query("SELECT to_regclass(%s) IS NOT NULL", name)[0][0]

    def release(self) -> None:
        self.query("DELETE FROM fault_hold")

    def our_sessions(self, suffix: str = "%") -> list:
        return self.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s"
            " AND pid <> pg_backend_pid()",
            f"pants db-migrate ({self.component.name}){suffix}",
        )


def target_on(server: LocalServer, component: Component = ACCOUNTMGR, hold: bool = True) -> Target:
    server.create_database("faults")
    target = Target(server, component)
    target.query("CREATE TABLE fault_hold (since timestamptz DEFAULT now())")
    target.query("CREATE TABLE fault_target (id int)")
    if hold:
        target.query("INSERT INTO fault_hold DEFAULT VALUES")
    return target


def wait_for(condition, what: str, timeout: float = 300, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def slow_revision_pid(target: Target):
    """The pid of the migration's session once it runs the slow revision (else None)."""
    rows = target.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state = 'active'"
        " AND query LIKE '%%fault_hold%%' AND pid <> pg_backend_pid()",
        f"pants db-migrate ({target.component.name}): alembic",
    )
    return rows[0][0] if rows else None


class Background:
    """`./pants ARGS` running while the test injects a fault."""

    def __init__(self, repo: PantsRepo, args, env: dict) -> None:
        self.args = list(args)
        self._out = tempfile.TemporaryFile("w+")
        self._err = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            ["./pants", *self.args],
            cwd=repo.root,
            env={**repo.base_env(), **env},
            stdout=self._out,
            stderr=self._err,
            text=True,
        )

    def finish(self, timeout: float = 300) -> PantsResult:
        try:
            self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self._out.seek(0)
        self._err.seek(0)
        return PantsResult(self.args, self.proc.returncode, self._out.read(), self._err.read())


def migrate_until_slow(repo: PantsRepo, target: Target, *flags: str, port: int = 0) -> Background:
    run = Background(repo, [*flags, "db-migrate", target.component.spec], target.env(port))
    try:
        wait_for(
            lambda: slow_revision_pid(target) or run.proc.poll() is not None, "the slow revision"
        )
    except AssertionError:
        raise AssertionError(str(run.finish(timeout=10))) from None
    assert run.proc.poll() is None, run.finish()
    return run


def assert_told_truthfully(result: PantsResult, title: str, *details: str) -> None:
    print(result)  # what the user reads, in the report of a passing test (pytest -rP)
    assert result.returncode == 1, str(result)
    for expected in (f"❌ Error: {title}", *details):
        assert expected in result.stderr, f"{expected!r} not in\n{result}"
    for phrase in NOT_OURS:
        assert phrase not in result.output, f"{phrase!r} in\n{result}"


def assert_plain_rerun_completes(repo: PantsRepo, target: Target, port: int = 0) -> None:
    target.release()
    rerun = repo.run("db-migrate", target.component.spec, env=target.env(port))
    assert rerun.returncode == 0, rerun
    assert target.versions() == (target.component.slow,)
    assert target.query("SELECT count(*) FROM fault_log")[0][0] == 1


def test_session_terminated_by_an_administrator(fault_repo, server, histories):
    before = histories["accountmgr"].head
    target = target_on(server)
    run = migrate_until_slow(fault_repo, target)
    target.query("SELECT pg_terminate_backend(%s)", slow_revision_pid(target))
    result = run.finish()

    assert_told_truthfully(
        result,
        "Connection terminated by an administrator",
        f"while applying {SLOW}",
        "pg_terminate_backend",
        f"The database is at {before} (read back",
        f"pants db-migrate {ACCOUNTMGR.target}",
    )
    assert target.versions() == (before,)
    assert not target.has_table("fault_log")
    assert_plain_rerun_completes(fault_repo, target)


def test_server_restarted(fault_repo, server, histories):
    before = histories["accountmgr"].head
    target = target_on(server)
    run = migrate_until_slow(fault_repo, target)
    server.restart()
    result = run.finish()

    assert_told_truthfully(
        result,
        "PostgreSQL restarted during the migration",
        f"while applying {SLOW}",
        f"The database is at {before} (read back",
        f"pants db-migrate {ACCOUNTMGR.target}",
    )
    assert target.versions() == (before,)
    assert not target.has_table("fault_log")
    assert_plain_rerun_completes(fault_repo, target)


def test_server_restarted_in_a_one_transaction_run(fault_repo, server, histories):
    """appproxy's env.py runs every revision of a run in one transaction: all of it is undone."""
    target = target_on(server, APPPROXY)
    run = migrate_until_slow(fault_repo, target)
    server.restart()
    result = run.finish()

    applied_before = len(histories["appproxy"].ordered())
    assert_told_truthfully(
        result,
        "PostgreSQL restarted during the migration",
        f"while applying {APPPROXY.slow}",
        "The database is at <base> (read back",
        f"The run was one transaction: the {applied_before} revision(s) it applied before"
        f" {APPPROXY.slow} were rolled back with it.",
        f"Continue: pants db-migrate {APPPROXY.target}",
    )
    assert target.versions() == ()
    assert not target.has_table("fault_log")
    assert_plain_rerun_completes(fault_repo, target)


def test_server_stopped_immediately(fault_repo, server, histories):
    """`pg_ctl stop -m immediate`: every server process gone at once, as in a crash."""
    before = histories["accountmgr"].head
    target = target_on(server)
    run = migrate_until_slow(fault_repo, target)
    server.stop(mode="immediate")
    result = run.finish()

    assert_told_truthfully(
        result,
        "PostgreSQL shut down immediately during the migration",
        f"while applying {SLOW}",
        "The database state is unknown",
        f"Connection refused to 127.0.0.1:{server.port}",
        f"{before} (the revisions before {SLOW} committed)",
        f"pants db-status {ACCOUNTMGR.target}",
        f"pants db-migrate {ACCOUNTMGR.target}",
    )
    server.start()  # crash recovery
    assert target.versions() == (before,)
    assert not target.has_table("fault_log")
    assert_plain_rerun_completes(fault_repo, target)


def test_network_gone_silent_fails_in_bounded_time(fault_repo, server, histories):
    before = histories["accountmgr"].head
    target = target_on(server)
    with silent_proxy(server.port) as proxy:
        run = migrate_until_slow(
            fault_repo, target, "--db-migrations-network-timeout=3", port=proxy.port
        )
        proxy.go_silent()
        silent_since = time.monotonic()
        result = run.finish()
        took = time.monotonic() - silent_since
        # 3 s of silence, then one bounded try to read the state back (connect_timeout, 5 s).
        assert took < 45, (took, result)
        assert_told_truthfully(
            result,
            "No answer from the database for 3 s",
            f"while applying {SLOW}",
            "The database state is unknown",
            "[db-migrations].network_timeout",
            f"pants db-migrate {ACCOUNTMGR.target}",
        )
        proxy.heal()
        # The server notices the migration's sessions are gone and rolls their work back.
        wait_for(lambda: not target.our_sessions(), "the silenced sessions to end", timeout=60)
        assert target.versions() == (before,)
        assert not target.has_table("fault_log")
        assert_plain_rerun_completes(fault_repo, target, port=proxy.port)


@contextlib.contextmanager
def target_setting(repo: PantsRepo, field: str) -> Iterator[None]:
    """accountmgr's alembic_migrations target with `field` (e.g. `lock_timeout="1s"`) added."""
    build = ACCOUNTMGR.build
    original = repo.read(build)
    marker = 'component="accountmgr",\n'
    assert marker in original
    repo.write(build, original.replace(marker, f"{marker}    {field},\n"))
    try:
        yield
    finally:
        repo.write(build, original)


def test_statement_timeout_in_a_data_migration(fault_repo, server, histories):
    before = histories["accountmgr"].head
    target = target_on(server)
    with target_setting(fault_repo, 'statement_timeout="2s"'):
        result = fault_repo.run("db-migrate", ACCOUNTMGR.spec, env=target.env())
        assert_told_truthfully(
            result,
            f"Migration {SLOW} ran longer than statement_timeout (2s)",
            f"The database is at {before} (read back",
            "statement_timeout",
            ACCOUNTMGR.target,
            f"pants db-migrate {ACCOUNTMGR.target}",
        )
        assert target.versions() == (before,)
        assert not target.has_table("fault_log")
        assert_plain_rerun_completes(fault_repo, target)


def test_lock_timeout_behind_an_application_transaction(fault_repo, server, histories):
    """With no retry (`lock_retries=0`) the first lock timeout ends the run: the retry loop's
    block (the holder named, the state read back), not a second one of the faults."""
    before = histories["accountmgr"].head
    target = target_on(server, hold=False)
    with target_setting(fault_repo, 'lock_timeout="1s", lock_retries=0'), psycopg.connect(
        server.conninfo(target.name, application_name="billing-worker")
    ) as app:
        app.execute("LOCK TABLE fault_target IN ACCESS SHARE MODE")  # an open transaction
        result = fault_repo.run("db-migrate", ACCOUNTMGR.spec, env=target.env())
        assert_told_truthfully(
            result,
            f"Migration {SLOW} could not get a lock within lock_timeout (1s)",
            f"The database is at {before} (checked)",
            "Not retried: lock_retries is 0",
            "application 'billing-worker'",
            f"pants db-migrate {ACCOUNTMGR.target}",
        )
        assert result.stderr.count("❌ Error:") == 1, result
        assert target.versions() == (before,)
        assert not target.has_table("fault_log")
        app.commit()
        assert_plain_rerun_completes(fault_repo, target)


@contextlib.contextmanager
def full_disk(where: Path) -> Iterator[Path]:
    """A tiny tmpfs at `where`, filled up to its last byte (mounting needs root: skipped without)."""
    where.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here to fill it: {mount.stderr.strip()}")
    try:
        filler = where / "filler"
        with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        yield filler
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=False)


def test_disk_full_while_writing_the_backup(fault_repo, server, histories, tmp_path):
    target = target_on(server, hold=False)
    env = target.env()
    assert fault_repo.run("db-migrate", ACCOUNTMGR.spec, env=env).returncode == 0
    backups = tmp_path / "backups"
    with full_disk(backups) as filler:
        flags = [f"--db-migrations-backup-dir={backups}"]
        down = ["db-migrate", "--direction=downgrade", "--target=-1", ACCOUNTMGR.spec]
        result = fault_repo.run(*flags, *down, env=env)
        assert_told_truthfully(
            result,
            "Backup failed",
            "No space left on device",
            str(backups),
            "Nothing was downgraded",
            f"The database is at {SLOW}",
        )
        assert sorted(p.name for p in backups.iterdir()) == ["filler"]  # no partial file
        assert target.versions() == (SLOW,)
        assert target.has_table("fault_log")

        filler.unlink()
        rerun = fault_repo.run(*flags, *down, env=env)
        assert rerun.returncode == 0, rerun
        assert target.versions() == (histories["accountmgr"].head,)
        (dump,) = backups.iterdir()
        assert dump.suffix == ".dump" and dump.stat().st_size > 0
        os.unlink(dump)

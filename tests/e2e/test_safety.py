"""Guarantees that hold when things go wrong: backups, one migration at a time, failures mid-run."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from e2e.conftest import add_revision
from e2e.pants_repo import PantsRepo, cmdline

MANAGER = "src/ai/backend/manager::"


def table_rows(db) -> dict:
    """Every row of every public table, as text, sorted: equality means the data is identical."""
    rows = {}
    for table in sorted(db.tables()):
        rows[table] = sorted(map(repr, db.query(f'SELECT * FROM "{table}"')))
    return rows


def test_downgrade_backup_restores_identical_rows(repo, new_database, histories, pg_server):
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    db.query(
        "INSERT INTO domains (name, description) VALUES ('default', 'the default domain'), ('lab', 'research')"
    )
    db.query(
        "INSERT INTO groups (name, domain_name) VALUES ('ml-team', 'default'), ('infra', 'lab')"
    )
    before = table_rows(db)
    head = histories["manager"].head

    down = repo.run("db-migrate", "--direction=downgrade", "--target=-2", MANAGER, env=env)
    assert down.returncode == 0, down
    assert db.versions("alembic_version") != (head,)
    backup_line = next(line for line in down.stdout.splitlines() if line.startswith("Backup: "))
    backup = backup_line.split(": ", 1)[1]
    assert os.path.exists(backup) and backup.endswith(".dump")
    # The backup was verified before the downgrade started.
    assert down.stdout.index("backup verified") < down.stdout.index("▶")

    restore = next(line for line in down.stdout.splitlines() if line.startswith("Restore with: "))
    command = restore.split(": ", 1)[1]
    # As printed, from the repo root, with the same URL variable as the migration (no password
    # prompt, no terminal).
    proc = subprocess.run(
        shlex.split(command),
        cwd=repo.root,
        env={**repo.base_env(), **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert db.versions("alembic_version") == (head,)
    assert table_rows(db) == before


# The revision holds the lock until another runner's session is there (and 2 s more, for it to
# find the lock taken), at most 60 s: a fixed sleep let the first run finish before the others had
# started on a loaded machine, and then no one waited. Backend status is read once per
# transaction unless the snapshot is cleared.
HOLD_UNTIL_ANOTHER_RUNNER = (
    "DO $$ BEGIN FOR i IN 1..600 LOOP PERFORM pg_stat_clear_snapshot();"
    " EXIT WHEN (SELECT count(*) FROM pg_stat_activity"
    " WHERE application_name = 'pants db-migrate (manager)') >= 2;"
    " PERFORM pg_sleep(0.1); END LOOP; PERFORM pg_sleep(2); END $$"
)


def test_four_concurrent_runs_apply_every_revision_once(private_repo, new_database, histories):
    """PANTS_CONCURRENT: four separate Pants processes, so the advisory lock is what serializes them."""
    head = histories["manager"].head
    add_revision(
        private_repo,
        "manager",
        "c0c0c0c0c0c0",
        head,
        "Slow step that counts its runs",
        upgrade="\n".join(
            [
                'op.execute("CREATE TABLE applied_log (n int)")',
                f"op.execute({HOLD_UNTIL_ANOTHER_RUNNER!r})",
                'op.execute("INSERT INTO applied_log VALUES (1)")',
            ]
        ),
        downgrade='op.drop_table("applied_log")',
    )
    db = new_database()
    env = {"MANAGER_DB_URL": db.url, "PANTS_CONCURRENT": "True"}
    # Warm the copy's caches so the four runs start close together.
    assert private_repo.run("lint", "--only=alembic-history", MANAGER).returncode == 0

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: private_repo.run("db-migrate", MANAGER, env=env), range(4))
        )
    for result in results:
        assert result.returncode == 0, result
    assert db.versions("alembic_version") == ("c0c0c0c0c0c0",)
    assert db.query("SELECT count(*) FROM applied_log")[0][0] == 1
    applied = [r for r in results if "✅ Migration successful" in r.stdout]
    assert len(applied) == 1, [r.stdout for r in results]
    assert sum("manager is up-to-date at c0c0c0c0c0c0" in r.stdout for r in results) == 3
    assert any("waiting up to" in r.stdout and "migration lock" in r.stdout for r in results)


def test_failure_mid_run_keeps_earlier_revisions_and_rolls_back_the_failing_one(
    private_repo, new_database, histories
):
    head = histories["manager"].head
    add_revision(
        private_repo,
        "manager",
        "f1f1f1f1f1f1",
        head,
        "Add project quotas",
        upgrade='op.execute("CREATE TABLE project_quotas (project_id uuid, quota bigint)")\n'
        "op.execute(\"INSERT INTO project_quotas VALUES ('00000000-0000-0000-0000-000000000001', 10)\")",
        downgrade='op.drop_table("project_quotas")',
    )
    add_revision(
        private_repo,
        "manager",
        "f2f2f2f2f2f2",
        "f1f1f1f1f1f1",
        "Link project quotas to groups",
        upgrade='op.create_foreign_key("fk_project_quotas_project_id_groups", "project_quotas", "groups", ["project_id"], ["id"])',
        downgrade='op.drop_constraint("fk_project_quotas_project_id_groups", "project_quotas")',
    )
    db = new_database()
    result = private_repo.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert result.returncode != 0, result
    assert "❌ Error: Foreign key constraint violation" in result.stderr
    assert "f2f2f2f2f2f2" in result.stderr and "violates foreign key constraint" in result.stderr
    assert "Rollback: pants db-migrate --direction=downgrade --target=-1" in result.stderr
    assert "Traceback" not in result.output
    assert (
        "f1f1f1f1f1f1: Add project quotas" in result.stdout
    )  # listed as applied before the failure
    assert db.versions("alembic_version") == ("f1f1f1f1f1f1",)
    assert "project_quotas" in db.tables()
    constraints = db.query(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'project_quotas'::regclass AND contype = 'f'"
    )
    assert constraints == []


def test_the_kill_9_test_kills_only_its_own_runners(tmp_path):
    """Another run's runner (a concurrent test's db-verify, say) reads a plan file of the same
    name: killing it made that run fail with a bare -9. Only this run's descendants are ours."""
    plan = str(tmp_path / "__db_migrate_plan__.json")
    sleeper = ["/bin/sh", "-c", "sleep 120; exit 0", "runner", plan]  # the plan file in argv
    ours = subprocess.Popen(sleeper)
    # A stranger: started through a shell that exits, so it descends from nothing of ours.
    spawn = (
        "import subprocess, sys; print(subprocess.Popen(sys.argv[1:], start_new_session=True,"
        " stdout=subprocess.DEVNULL).pid)"
    )
    stranger = int(subprocess.check_output([sys.executable, "-c", spawn, *sleeper], text=True))
    try:
        deadline = time.monotonic() + 60  # until both have exec'd (their cmdline is set)
        while time.monotonic() < deadline:
            found = set(PantsRepo(tmp_path).runner_pids(os.getpid()))
            if ours.pid in found and plan in cmdline(stranger):
                break
            time.sleep(0.2)
        assert ours.pid in found
        assert plan in cmdline(stranger) and stranger not in found
    finally:
        ours.kill()
        os.kill(stranger, signal.SIGKILL)
        ours.wait()


def test_kill_9_during_a_long_migration_then_rerun_completes(private_repo, new_database, histories):
    head = histories["manager"].head
    add_revision(
        private_repo,
        "manager",
        "d1d1d1d1d1d1",
        head,
        "Long backfill",
        upgrade='op.execute("CREATE TABLE backfill_log (n int)")\nop.execute("SELECT pg_sleep(15)")\nop.execute("INSERT INTO backfill_log VALUES (1)")',
        downgrade='op.drop_table("backfill_log")',
    )
    db = new_database()
    env = {**private_repo.base_env(), "MANAGER_DB_URL": db.url}
    assert (
        private_repo.run("lint", "--only=alembic-history", MANAGER).returncode == 0
    )  # warm pantsd
    proc = subprocess.Popen(
        ["./pants", "db-migrate", MANAGER],
        cwd=private_repo.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    killed = False
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        seen.append(line)
        if "Long backfill" in line and "▶" in line:
            time.sleep(1)
            for pid in private_repo.runner_pids(proc.pid):
                os.kill(pid, signal.SIGKILL)
                killed = True
            break
        assert time.monotonic() < deadline
    proc.communicate(timeout=120)
    assert killed, "".join(seen)
    assert proc.returncode != 0
    assert db.versions("alembic_version") == (head,)  # the long revision never committed
    # Each committed revision's checksum was written in its own transaction: none is lost.
    recorded = db.query("SELECT revision FROM pants_db_migrate.alembic_version_checksums")
    assert {r[0] for r in recorded} == set(histories["manager"].ordered())

    rerun = private_repo.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert rerun.returncode == 0, rerun
    assert db.versions("alembic_version") == ("d1d1d1d1d1d1",)
    assert db.query("SELECT count(*) FROM backfill_log")[0][0] == 1

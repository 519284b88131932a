"""For CI and release engineers: offline SQL, dry runs, release pins, JSON reports, tamper detection."""

from __future__ import annotations

import json

from e2e.conftest import COMPONENTS, snapshot

MANAGER = "src/ai/backend/manager::"
ACCOUNTMGR = "src/ai/backend/accountmgr::"


def test_sql_prints_the_planned_range_without_touching_a_database(repo, new_database, histories):
    db = new_database()
    before = snapshot(db)
    result = repo.run("db-migrate", "--sql", ACCOUNTMGR, env={"ACCOUNTMGR_DB_URL": db.url})
    assert result.returncode == 0, result
    assert result.stdout.startswith("-- pants db-migrate --sql: accountmgr upgrade head")
    assert "CREATE TABLE users" in result.stdout and "COMMIT;" in result.stdout
    ordered = histories["accountmgr"].ordered()
    for revision in ordered:
        assert revision in result.stdout
    assert snapshot(db) == before

    # A range, into a file; a downgrade needs a range.
    down = repo.run(
        "db-migrate",
        "--sql-file=dist/down.sql",
        "--direction=downgrade",
        f"--target={ordered[-1]}:{ordered[-3]}",
        ACCOUNTMGR,
    )
    assert down.returncode == 0, down
    text = (repo.root / "dist" / "down.sql").read_text()
    assert f"Running downgrade {ordered[-1]} -> {ordered[-2]}" in text
    assert f"Running downgrade {ordered[-2]} -> {ordered[-3]}" in text
    assert f"-> {ordered[-4]}" not in text


def test_a_failing_sql_run_writes_no_sql_at_all(repo):
    """The header comes with the SQL: a refused range leaves stdout empty and an existing
    `--sql-file` as it was."""
    refused = repo.run("db-migrate", "--sql", "--direction=downgrade", "--target=base", ACCOUNTMGR)
    assert refused.returncode != 0, refused
    assert "❌ Error: Cannot write the SQL of downgrade base" in refused.stderr
    assert refused.stdout == "", refused
    repo.write("dist/kept.sql", "-- yesterday's review\n")
    into_file = repo.run(
        "db-migrate",
        "--sql-file=dist/kept.sql",
        "--direction=downgrade",
        "--target=base",
        ACCOUNTMGR,
    )
    assert into_file.returncode != 0, into_file
    assert repo.read("dist/kept.sql") == "-- yesterday's review\n"


def test_dry_run_lists_the_plan_and_the_backup_and_changes_nothing(repo, new_database, histories):
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    before = snapshot(db)
    history = histories["manager"]
    result = repo.run(
        "db-migrate", "--dry-run", "--direction=downgrade", "--target=-2", MANAGER, env=env
    )
    assert result.returncode == 0, result
    (parent,) = history.parent(history.head)
    (grandparent,) = history.parent(parent)
    assert f"1. {history.head} → {parent}:" in result.stdout
    assert f"2. {parent} → {grandparent}:" in result.stdout
    assert "Backup: pg_dump --format=custom into " in result.stdout
    assert "Nothing was changed (--dry-run)." in result.stdout
    assert snapshot(db) == before
    assert not list((repo.root / ".db-backups").glob(f"manager-{history.head}-to-{grandparent}-*"))


def test_release_pins_resolve_targets_and_show_in_status(repo, new_database):
    pins = dict(
        line.split(" = ")
        for line in repo.read(f"{COMPONENTS['manager'][0]}/releases.txt").splitlines()
        if line and not line.startswith("#")
    )
    release, revision = next(iter(pins.items()))
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    result = repo.run("db-migrate", f"--target=release:{release}", MANAGER, env=env)
    assert result.returncode == 0, result
    assert f"Target: release:{release} ({revision})" in result.stdout
    assert db.versions("alembic_version") == (revision,)
    status = repo.run("db-status", MANAGER, env=env)
    assert f"Release: the database matches release {release}" in status.stdout, status

    unknown = repo.run("db-migrate", "--target=release:0.0.0", MANAGER, env=env)
    assert unknown.returncode != 0 and "❌ Error: Unknown release '0.0.0'" in unknown.stderr
    assert release in unknown.stderr  # lists the pinned releases
    assert db.versions("alembic_version") == (revision,)


def test_json_report_on_every_goal(repo, new_database, histories):
    db = new_database()
    env = {"ACCOUNTMGR_DB_URL": db.url}
    migrated = repo.run("db-migrate", "--output=json", ACCOUNTMGR, env=env)
    assert migrated.returncode == 0, migrated
    report = json.loads(migrated.stdout)
    assert report["schema"] == "pants-db-migrate/report/v1" and report["goal"] == "db-migrate"
    assert report["ok"] is True and report["exit_code"] == 0 and report["problems"] == []
    (component,) = report["components"]
    assert component["component"] == "accountmgr" and component["status"] == "migrated"
    assert [s["revision"] for s in component["steps"]] == histories["accountmgr"].ordered()
    assert all(isinstance(s["seconds"], float) for s in component["steps"])
    assert component["after"] == [histories["accountmgr"].head]
    assert "Migration successful" in migrated.stderr  # the human text still shows, on stderr

    status = json.loads(repo.run("db-status", "--output=json", ACCOUNTMGR, env=env).stdout)
    assert status["goal"] == "db-status" and status["components"][0]["state"] == "up-to-date"

    failed = repo.run(
        "db-migrate",
        "--output=json",
        "--report-file=dist/report.json",
        "--target=zzz",
        ACCOUNTMGR,
        env=env,
    )
    assert failed.returncode != 0
    report = json.loads(failed.stdout)
    assert report["ok"] is False and report["problems"][0]["kind"] == "cannot_locate_revision"
    assert json.loads((repo.root / "dist" / "report.json").read_text()) == report

    unreachable = repo.run(
        "db-migrate",
        "--output=json",
        ACCOUNTMGR,
        env={"ACCOUNTMGR_DB_URL": "postgresql+psycopg://u:pw@127.0.0.1:9/x"},
    )
    component = json.loads(unreachable.stdout)["components"][0]
    assert component["status"] == "error" and component["error"]["kind"] == "cannot_connect"


def test_an_edited_applied_revision_is_detected(private_repo, new_database, histories):
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    assert private_repo.run("db-migrate", MANAGER, env=env).returncode == 0
    assert db.query("SELECT count(*) FROM pants_db_migrate.alembic_version_checksums")[0][0] == len(
        histories["manager"].ordered()
    )
    first = histories["manager"].ordered()[0]
    (path,) = (private_repo.root / COMPONENTS["manager"][0] / "versions").glob(f"{first}_*.py")
    path.write_text(path.read_text() + "\n# edited after release\n")
    before = snapshot(db)

    refused = private_repo.run("db-migrate", MANAGER, env=env)
    assert refused.returncode != 0, refused
    assert "❌ Error: Applied migration changed since it ran" in refused.stderr
    assert first in refused.stderr and path.name in refused.stderr
    assert snapshot(db) == before
    # db-status reports it as the state (exit 0 as documented); --check fails on it.
    status = private_repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0 and "State: ⚠️ Changed since applied" in status.stdout, status
    assert first in status.stdout
    assert private_repo.run("db-status", "--check", MANAGER, env=env).returncode == 1

    allowed = private_repo.run("db-migrate", "--allow-changed", MANAGER, env=env)
    assert allowed.returncode == 0, allowed
    assert "Warning (--allow-changed)" in allowed.stdout and first in allowed.stdout

    # Downgrading removes the ledger rows of what it reverts.
    down = private_repo.run(
        "db-migrate",
        "--allow-changed",
        "--direction=downgrade",
        "--target=-1",
        "--no-backup",
        MANAGER,
        env=env,
    )
    assert down.returncode == 0, down
    assert histories["manager"].head not in {
        r[0] for r in db.query("SELECT revision FROM pants_db_migrate.alembic_version_checksums")
    }


def test_dev_server_json_tells_running_from_stopped_and_names_no_component(repo):
    """The development server is shared by every component: its report is the server's state."""

    def server(*args: str) -> dict:
        result = repo.run("db-dev-server", "--output=json", *args)
        assert result.returncode == 0, result
        report = json.loads(result.stdout)
        assert report["components"] == [], report
        assert not any(name in result.stdout for name in COMPONENTS), result.stdout
        return report["server"]

    port = int(repo.read("pants.toml").split("dev_server_port = ", 1)[1].split()[0])
    before = server()
    assert before["state"] in ("stopped", "not-created"), before
    try:
        started = server("--action=start")
        assert started["state"] == "running" and started["address"] == f"127.0.0.1:{port}"
        assert server()["state"] == "running"
    finally:
        stopped = server("--action=stop")
    assert stopped["state"] == "stopped" and stopped["action"] == "stop", stopped
    assert server() == dict(stopped, action="status")

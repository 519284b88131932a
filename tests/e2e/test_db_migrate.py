"""`./pants db-migrate` as users type it, against a real PostgreSQL.

Every test asserts on the database (Alembic's version table, the catalog), not only on the text.
"""

from __future__ import annotations

import re

import pytest
from e2e.conftest import COMPONENTS

MANAGER = "src/ai/backend/manager::"


def migrate(repo, db, *args, component="manager", spec=MANAGER, extra_env=None):
    env = {COMPONENTS[component][1]: db.url, **(extra_env or {})}
    return repo.run("db-migrate", *args, spec, env=env)


def test_upgrade_from_empty_then_rerun_is_a_noop(repo, new_database, histories):
    db = new_database()
    history = histories["manager"]
    first = migrate(repo, db)
    assert first.returncode == 0, first
    assert "✅ Migration successful" in first.stdout
    assert "Component: manager" in first.stdout
    assert "Direction: upgrade" in first.stdout and "Target: head" in first.stdout
    assert "New status: Database is up-to-date" in first.stdout
    ordered = history.ordered()
    # One line per revision as it starts and as it ends, then one `old → new: message` each.
    for revision in ordered:
        assert re.search(rf"✓ {revision} applied in \d", first.stdout), revision
        assert re.search(rf"  - .* → {revision}: ", first.stdout), revision
    assert db.versions("alembic_version") == (history.head,)
    assert {
        "users",
        "groups",
        "domains",
        "keypairs",
        "sessions",
        "kernels",
        "agents",
    } <= db.tables()

    again = migrate(repo, db)
    assert again.returncode == 0, again
    assert f"manager is up-to-date at {history.head}" in again.stdout
    assert "Migration successful" not in again.stdout
    assert db.versions("alembic_version") == (history.head,)


def test_downgrade_one_then_relative_upgrade(repo, new_database, histories):
    db = new_database()
    history = histories["manager"]
    assert migrate(repo, db).returncode == 0
    (parent,) = history.parent(history.head)

    down = migrate(repo, db, "--direction=downgrade", "--target=-1")
    assert down.returncode == 0, down
    assert "Direction: downgrade" in down.stdout and "Target: -1" in down.stdout
    assert "Reverted migrations:" in down.stdout
    assert f"{history.head} → {parent}" in down.stdout and "(reverted)" in down.stdout
    assert f"New status: Database at revision {parent}" in down.stdout
    assert "Warning: Downgrade may have removed data or features." in down.stdout
    assert "Backup: " in down.stdout and "Restore with: " in down.stdout
    assert db.versions("alembic_version") == (parent,)
    backups = list((repo.root / ".db-backups").glob(f"manager-{history.head}-to-{parent}-*.dump"))
    assert backups, down

    up = migrate(repo, db, "--target=+1")
    assert up.returncode == 0, up
    assert db.versions("alembic_version") == (history.head,)


def test_relative_upgrade_from_empty_applies_exactly_one(repo, new_database, histories):
    db = new_database()
    first = histories["manager"].ordered()[0]
    result = migrate(repo, db, "--target=+1")
    assert result.returncode == 0, result
    assert db.versions("alembic_version") == (first,)
    assert f"<base> → {first}" in result.stdout


def test_full_and_partial_revision_ids(repo, new_database, histories):
    db = new_database()
    ordered = histories["manager"].ordered()
    middle, later = ordered[len(ordered) // 3], ordered[len(ordered) // 2]

    full = migrate(repo, db, f"--target={middle}")
    assert full.returncode == 0, full
    assert db.versions("alembic_version") == (middle,)

    prefix = next(
        later[:n]
        for n in range(4, len(later))
        if sum(r.startswith(later[:n]) for r in ordered) == 1
    )
    partial = migrate(repo, db, f"--target={prefix}")
    assert partial.returncode == 0, partial
    assert db.versions("alembic_version") == (later,)


def test_downgrade_to_base_removes_the_schema(repo, new_database, histories):
    db = new_database()
    assert migrate(repo, db).returncode == 0
    result = migrate(repo, db, "--direction=downgrade", "--target=base", "--no-backup")
    assert result.returncode == 0, result
    assert "--no-backup given" in result.stdout
    assert db.versions("alembic_version") == ()
    assert db.tables() <= {"alembic_version"}
    assert not db.enums()


def test_all_components_in_one_run(repo, new_database, histories):
    dbs = {name: new_database() for name in COMPONENTS}
    env = {COMPONENTS[name][1]: db.url for name, db in dbs.items()}
    result = repo.run("db-migrate", "::", env=env)
    assert result.returncode == 0, result
    for name, db in dbs.items():
        assert db.versions(COMPONENTS[name][2]) == (histories[name].head,), name
        assert f"Component: {name}" in result.stdout
    # The documented order: migration_order, then component name.
    positions = [
        result.stdout.index(f"Component: {name}") for name in ("accountmgr", "appproxy", "manager")
    ]
    assert positions == sorted(positions)
    assert "db-migrate: 3/3 components reached their target" in result.stdout


def test_url_override_wins_over_the_ini_and_password_is_never_printed(
    private_repo, new_database, histories, pg_server
):
    # The ini points at a port where nothing listens: only the override can make this work.
    ini = private_repo.read("alembic.ini")
    private_repo.write(
        "alembic.ini",
        re.sub(
            r"sqlalchemy\.url = .*",
            "sqlalchemy.url = postgresql+psycopg://nobody:x@127.0.0.1:9/none",
            ini,
        ),
    )
    db = new_database()
    assert pg_server.password and pg_server.password in db.url
    result = migrate(private_repo, db)
    assert result.returncode == 0, result
    assert db.versions("alembic_version") == (histories["manager"].head,)
    assert pg_server.password not in result.output
    assert (
        f"postgresql+psycopg://{pg_server.superuser}:***@127.0.0.1:{pg_server.port}/{db.name}"
        in result.stdout
    )

    # Never in argv or Pants' own files either.
    for path in private_repo.root.glob(".pants.d/**/*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert pg_server.password.encode() not in path.read_bytes(), path


def test_downgrade_without_target_is_refused(repo, new_database, histories):
    db = new_database()
    assert migrate(repo, db).returncode == 0
    result = migrate(repo, db, "--direction=downgrade")
    assert result.returncode != 0
    assert "❌ Error: Downgrade needs a target" in result.stderr
    assert "Traceback" not in result.output
    assert db.versions("alembic_version") == (histories["manager"].head,)


@pytest.mark.parametrize(
    "spec", ["pants-plugins::", "src/does/not/exist::", "3rdparty/python:reqs"]
)
def test_spec_without_a_component_is_an_error(repo, spec):
    result = repo.run("db-migrate", spec)
    assert result.returncode != 0, result
    assert "❌ Error: No migration target for" in result.stderr
    assert spec in result.stderr
    assert "Traceback" not in result.output


def test_no_spec_is_an_error_without_default_specs(repo):
    result = repo.run("db-migrate", "--db-migrations-default-specs=[]")
    assert result.returncode != 0, result
    assert "❌ Error: No components selected" in result.stderr


def test_dev_server_starts_on_demand_and_creates_the_database(repo, histories):
    """No URL variable: the ini's dev server (on this copy's own port) is started and used."""
    try:
        result = repo.run("db-migrate", "src/ai/backend/appproxy::")
        assert result.returncode == 0, result
        assert "starting the development PostgreSQL" in result.stdout
        assert "creating database 'appproxy'" in result.stdout
        status = repo.run("db-dev-server", "--action=status")
        assert status.returncode == 0 and "running on 127.0.0.1:" in status.stdout, status
        # What a new pytest session does to /tmp/pytest-of-<user> (a user's home may be so too):
        # the server's data folder is out of the service account's reach while the server runs.
        repo.root.parent.chmod(0o700)
        again = repo.run("db-migrate", "src/ai/backend/appproxy::")
        assert again.returncode == 0, again
        assert f"appproxy is up-to-date at {histories['appproxy'].head}" in again.stdout
    finally:
        stop = repo.run("db-dev-server", "--action=stop")
    assert stop.returncode == 0 and "stopped" in stop.stdout, stop
    assert (repo.root / ".dev-postgres" / "data" / "PG_VERSION").exists()


def test_a_noop_is_answered_by_the_lean_runner_and_work_by_the_components_own(
    repo, new_database, histories
):
    """A run to head is tried first by the lean runner (no component source in its sandbox; after
    pantsd, which answers a plain no-op itself): a no-op ends there, a run with work goes to the
    component's environment, printing once."""
    db = new_database()
    timing = {"DB_MIGRATE_TIMING": "1"}
    work = migrate(repo, db, "--target=+2")
    assert work.returncode == 0, work
    rest = migrate(repo, db, extra_env=timing)
    assert rest.returncode == 0, rest
    assert rest.stdout.count("✅ Migration successful") == 1, rest
    assert len(re.findall(r"db-migrate timing: runner manager", rest.stderr)) == 2, rest
    assert db.versions("alembic_version") == (histories["manager"].head,)
    noop = migrate(repo, db, "--db-migrations-read-in-pantsd=false", extra_env=timing)
    assert noop.returncode == 0, noop
    assert "✅ manager is up-to-date at" in noop.stdout
    assert len(re.findall(r"db-migrate timing: runner manager", noop.stderr)) == 1, noop
    # By default pantsd answers a plain no-op itself: no runner at all (test_read_in_pantsd).
    plain = migrate(repo, db, extra_env=timing)
    assert plain.returncode == 0 and plain.stdout == noop.stdout, plain
    assert "db-migrate timing: runner" not in plain.stderr and "answered=yes" in plain.stderr

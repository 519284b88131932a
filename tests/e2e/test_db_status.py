"""`./pants db-status` in each state, against a real PostgreSQL; it must never change a database."""

from __future__ import annotations

from e2e.conftest import COMPONENTS, add_revision, snapshot

APPPROXY = "src/ai/backend/appproxy::"
URL_ENV, TABLE = COMPONENTS["appproxy"][1], COMPONENTS["appproxy"][2]


def status(repo, db, *args, spec=APPPROXY):
    return repo.run("db-status", *args, spec, env={URL_ENV: db.url} if db else None)


def migrate(repo, db, *args):
    result = repo.run("db-migrate", *args, APPPROXY, env={URL_ENV: db.url})
    assert result.returncode == 0, result
    return result


def test_no_revision_then_behind_then_up_to_date(repo, new_database, histories):
    db = new_database()
    ordered = histories["appproxy"].ordered()
    head = histories["appproxy"].head

    fresh = status(repo, db)
    assert fresh.returncode == 0, fresh
    assert "Component: appproxy" in fresh.stdout
    assert "Current revision: none (fresh database: no revision applied)" in fresh.stdout
    assert f"State: ⚠️ No revision (fresh database, {len(ordered)} pending)" in fresh.stdout
    assert db.versions(TABLE) == () and db.tables() == set(), "db-status changed the database"
    assert status(repo, db, "--check").returncode == 1

    migrate(repo, db, "--target=+3")
    before = snapshot(db, TABLE)
    behind = status(repo, db)
    assert behind.returncode == 0, behind
    assert f"Current revision: {ordered[2]}: " in behind.stdout
    assert f"Head revision: {head}: " in behind.stdout
    assert f"State: ⚠️ Behind ({len(ordered) - 3} pending)" in behind.stdout
    # The pending revisions, in the order an upgrade applies them, as `rev: message`.
    pending = behind.stdout.split("Pending migrations:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split(":")[0].strip(" -") for line in pending] == ordered[3:]
    graph = histories["appproxy"].graph
    assert pending[0] == f"  - {ordered[3]}: {graph.get(ordered[3]).message}"
    assert "pants db-migrate src/ai/backend/appproxy/models/alembic:migrations" in behind.stdout
    assert snapshot(db, TABLE) == before
    check = status(repo, db, "--check")
    assert check.returncode == 1 and "Behind" in check.stdout, check

    migrate(repo, db)
    fresh_again = status(repo, db, "--check")
    assert fresh_again.returncode == 0, fresh_again
    assert "State: ✅ Up-to-date" in fresh_again.stdout
    assert "Pending migrations" not in fresh_again.stdout
    assert "Traceback" not in fresh.output + behind.output + fresh_again.output


def test_history_lists_base_to_head_and_marks_current_and_head(repo, new_database, histories):
    db = new_database()
    migrate(repo, db, "--target=+2")
    ordered = histories["appproxy"].ordered()
    result = status(repo, db, "--history")
    assert result.returncode == 0, result
    listing = result.stdout.split(f"History ({len(ordered)} revisions, base → head):\n", 1)[
        1
    ].split("\n\n", 1)[0]
    ids = [line.split(":")[0].strip(" -") for line in listing.splitlines()]
    assert ids == ordered
    assert f"{ordered[1]}: " in listing and listing.splitlines()[1].endswith("(current)")
    assert listing.splitlines()[-1].endswith("(head)")


def test_ahead_or_unknown_revision(repo, new_database, histories):
    db = new_database()
    migrate(repo, db)
    db.query(f"UPDATE {TABLE} SET version_num = 'feedfacecafe'")
    before = snapshot(db, TABLE)
    result = status(repo, db)
    assert result.returncode == 0, result
    assert "Current revision: feedfacecafe (unknown to these scripts)" in result.stdout
    assert (
        "State: ❌ Ahead/unknown: the database is at feedfacecafe, which no revision file here defines"
        in result.stdout
    )
    assert "git pull" in result.stdout
    assert status(repo, db, "--check").returncode == 1
    assert snapshot(db, TABLE) == before


def test_dev_server_that_is_down_is_reported_not_started(repo):
    result = repo.run("db-status", APPPROXY)  # no URL variable: the ini's development server
    assert result.returncode == 0, result
    assert "State: ⚠️ Not running: the development PostgreSQL on 127.0.0.1:" in result.stdout
    assert "db-status never starts it" in result.stdout
    assert "pants db-dev-server --action=start" in result.stdout
    assert not (repo.root / ".dev-postgres" / "data" / "postmaster.pid").exists()
    assert repo.run("db-status", "--check", APPPROXY).returncode == 1


def test_unreachable_database_is_an_error(repo):
    result = repo.run(
        "db-status", APPPROXY, env={URL_ENV: "postgresql+psycopg://u:secret@127.0.0.1:9/none"}
    )
    assert result.returncode != 0, result
    assert "❌ Error: Cannot connect to database" in result.stderr
    assert "secret" not in result.output and "Traceback" not in result.output


def test_every_component_with_a_summary(repo, new_database, histories):
    dbs = {name: new_database() for name in COMPONENTS}
    env = {COMPONENTS[name][1]: db.url for name, db in dbs.items()}
    assert repo.run("db-migrate", "src/ai/backend/accountmgr::", env=env).returncode == 0
    result = repo.run("db-status", "::", env=env)
    assert result.returncode == 0, result
    n_manager = len(histories["manager"].ordered())
    n_appproxy = len(histories["appproxy"].ordered())
    assert (
        f"db-status: 1/3 components up-to-date: accountmgr up-to-date, appproxy no-revision ({n_appproxy} pending),"
        f" manager no-revision ({n_manager} pending)" in result.stdout
    )
    assert repo.run("db-status", "--check", "::", env=env).returncode == 1


def test_diverged_heads(private_repo, new_database, histories):
    db = new_database()
    head = histories["appproxy"].head
    migrate(private_repo, db)
    add_revision(private_repo, "appproxy", "aaaa00000001", head, "Add one")
    add_revision(private_repo, "appproxy", "bbbb00000001", head, "Add other")
    result = status(private_repo, db)
    assert result.returncode == 0, result
    assert "Head revisions (2, diverged):" in result.stdout
    assert (
        "  - aaaa00000001: Add one (src/ai/backend/appproxy/models/alembic/versions/aaaa00000001_add_one.py)"
        in result.stdout
    )
    assert "State: ❌ Diverged (2 heads in the scripts)" in result.stdout
    assert (
        "Resolve the heads: pants db-rebase src/ai/backend/appproxy/models/alembic:migrations"
        in result.stdout
    )
    pending = result.stdout.split("Pending migrations (to every head):\n", 1)[1].split("\n\n", 1)[0]
    assert {line.split(":")[0].strip(" -") for line in pending.splitlines()} == {
        "aaaa00000001",
        "bbbb00000001",
    }
    assert status(private_repo, db, "--check").returncode == 1
    assert db.versions(TABLE) == (head,)


def _said(result) -> list:
    """stderr without Pants' log lines and the timing lines."""
    return [
        line
        for line in result.stderr.splitlines()
        if " [INFO] " not in line and "db-migrate timing:" not in line
    ]


def test_several_components_in_one_runner_print_what_separate_runs_print(
    repo, new_database, histories
):
    """`db-status` over several components reads them in one runner process (its threads), and
    shows each component's output in the documented order, the same as running each alone."""
    dbs = {name: new_database() for name in ("accountmgr", "appproxy")}
    env = {COMPONENTS[name][1]: db.url for name, db in dbs.items()}
    env[COMPONENTS["manager"][1]] = "postgresql+psycopg://u:secret@127.0.0.1:9/none"
    assert repo.run("db-migrate", "src/ai/backend/accountmgr::", env=env).returncode == 0
    assert repo.run("db-migrate", "--target=+2", APPPROXY, env=env).returncode == 0
    timing = {**env, "DB_MIGRATE_TIMING": "1"}
    together = repo.run("db-status", "--db-migrations-read-in-pantsd=false", "::", env=timing)
    assert together.returncode != 0, together  # the manager cannot be reached
    runners = [line for line in together.stderr.splitlines() if "db-migrate timing: runner" in line]
    assert len(runners) == 1 and "accountmgr+appproxy+manager" in runners[0], together

    # By default pantsd reads the two it can; the manager's runner alone says why it cannot.
    mixed = repo.run("db-status", "::", env=timing)
    runners = [line for line in mixed.stderr.splitlines() if "db-migrate timing: runner" in line]
    assert len(runners) == 1 and "runner manager " in runners[0], mixed
    assert mixed.returncode == together.returncode and mixed.stdout == together.stdout
    assert _said(mixed) == _said(together)

    where_out = where_err = 0
    for name in ("accountmgr", "appproxy", "manager"):
        alone = repo.run("db-status", f"src/ai/backend/{name}::", env=env)
        if alone.stdout.strip():
            where_out = together.stdout.index(alone.stdout.rstrip("\n"), where_out)
        error = alone.stderr[alone.stderr.find("❌") :] if "❌" in alone.stderr else ""
        if error:
            where_err = together.stderr.index(error.rstrip("\n"), where_err)
    assert "Component: accountmgr" in together.stdout and "Component: appproxy" in together.stdout
    assert together.stdout.index("Component: accountmgr") < together.stdout.index(
        "Component: appproxy"
    )
    assert "❌ Error: Cannot connect to database" in together.stderr
    assert (
        f"db-status: 1/3 components up-to-date: accountmgr up-to-date, appproxy behind"
        f" ({len(histories['appproxy'].ordered()) - 2} pending), manager error" in together.stdout
    )
    assert "secret" not in together.output and "Traceback" not in together.output
    assert dbs["appproxy"].versions(TABLE) == (histories["appproxy"].ordered()[1],)

"""The safety promises at their edges: dry runs that change nothing, downgrades in reverse order,
one lock per operation, a checksum ledger without blind spots, private backups that restore as
printed, live sessions before a downgrade, the user's PGOPTIONS, and no password in any message.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import time
from urllib.parse import quote

import alembic  # noqa: F401 - plain Alembic runs in this environment (plain_alembic)
import psycopg
from e2e.conftest import COMPONENTS, add_revision, snapshot
from e2e.test_db_rebase import commit_all, git, init_main

MANAGER = "src/ai/backend/manager::"
ACCOUNTMGR = "src/ai/backend/accountmgr::"
APPPROXY = "src/ai/backend/appproxy::"


def dev_port(repo) -> int:
    return int(re.search(r"dev_server_port = (\d+)", repo.read("pants.toml")).group(1))


def dev_databases(repo) -> set:
    conninfo = (
        f"host=127.0.0.1 port={dev_port(repo)} user=postgres password=develove dbname=postgres"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def schemas(db) -> set:
    return {r[0] for r in db.query("SELECT nspname FROM pg_namespace")}


# -- dry runs --------------------------------------------------------------------------------


def test_dry_runs_start_nothing_and_create_nothing(private_repo, histories):
    data = private_repo.root / ".dev-postgres" / "data"
    dry = private_repo.run("db-migrate", "--dry-run", ACCOUNTMGR)
    assert dry.returncode == 0, dry
    assert "a real run would start it" in dry.stdout, dry
    assert "would create database 'accountmgr'" in dry.stdout
    assert f"Would apply {len(histories['accountmgr'].ordered())} revisions" in dry.stdout
    assert "Nothing was changed (--dry-run)." in dry.stdout
    for goal in ("db-status", "db-rebase --dry-run"):
        result = private_repo.run(*goal.split(), ACCOUNTMGR)
        assert result.returncode == 0, result
    assert not (data / "postmaster.pid").exists(), "a dry run started the development server"

    assert private_repo.run("db-dev-server", "--action=start").returncode == 0
    running = private_repo.run("db-migrate", "--dry-run", ACCOUNTMGR)
    assert running.returncode == 0, running
    assert "a real run would create database 'accountmgr'" in running.stdout, running
    assert "accountmgr" not in dev_databases(private_repo)


def test_dry_run_writes_no_ledger_and_no_version_table(repo, new_database):
    db = new_database()
    result = repo.run("db-migrate", "--dry-run", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert result.returncode == 0, result
    assert "pants_db_migrate" not in schemas(db)
    assert db.versions("alembic_version") == () and not db.tables()


# -- several components ----------------------------------------------------------------------


def test_a_downgrade_of_several_components_runs_in_reverse_order(repo, new_database):
    env = {COMPONENTS[name][1]: new_database().url for name in COMPONENTS}
    up = repo.run("db-migrate", "::", env=env)
    assert up.returncode == 0, up
    assert "Order (upgrade, migration_order): accountmgr → appproxy → manager" in up.stdout
    down = repo.run("db-migrate", "--direction=downgrade", "--target=-1", "::", env=env)
    assert down.returncode == 0, down
    assert (
        "Order (downgrade, the reverse of migration_order): manager → appproxy → accountmgr"
        in down.stdout
    )
    order = [m.group(1) for m in re.finditer(r"^Component: (\w+)$", down.stdout, re.M)]
    assert order == ["manager", "appproxy", "accountmgr"], down.stdout


# -- the checksum ledger ---------------------------------------------------------------------


def plain_alembic(repo, db, *args):
    """Alembic's own CLI on the repo copy, in this test's environment (the repo's lockfile)."""
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "alembic.ini", *args],
        cwd=repo.root,
        env={**os.environ, "MANAGER_DB_URL": db.url, "PYTHONPATH": str(repo.root / "src")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result


def applied_file(repo, histories, index: int):
    revision = histories["manager"].ordered()[index]
    directory = repo.root / COMPONENTS["manager"][0] / "versions"
    return revision, next(directory.glob(f"{revision}_*.py"))


def test_revisions_applied_by_plain_alembic_are_adopted_by_a_no_op(
    private_repo, new_database, histories
):
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    plain_alembic(private_repo, db, "upgrade", "head")
    noop = private_repo.run("db-migrate", MANAGER, env=env)
    assert noop.returncode == 0, noop
    n = len(histories["manager"].ordered())
    assert f"recorded checksums for {n} revisions applied outside pants" in noop.stdout, noop
    again = private_repo.run("db-migrate", MANAGER, env=env)
    assert "applied outside pants" not in again.stdout  # said once

    revision, path = applied_file(private_repo, histories, 3)
    path.write_text(path.read_text() + "\n# an edit after the fact\n")
    status = private_repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0, status
    assert "State: ⚠️ Changed since applied (1 released revision)" in status.stdout, status
    assert revision in status.stdout
    assert private_repo.run("db-status", "--check", MANAGER, env=env).returncode == 1
    refused = private_repo.run("db-migrate", MANAGER, env=env)
    assert refused.returncode == 1, refused
    assert "❌ Error: Applied migration changed since it ran" in refused.stderr


def test_a_plain_alembic_downgrade_raises_no_false_alarm(private_repo, new_database, histories):
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    assert private_repo.run("db-migrate", MANAGER, env=env).returncode == 0
    plain_alembic(private_repo, db, "downgrade", "-1")
    revision, path = applied_file(private_repo, histories, -1)
    path.write_text(path.read_text() + "\n# fixed before it is applied again\n")
    status = private_repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0, status
    assert "Behind (1 pending)" in status.stdout and "Changed" not in status.stdout, status
    up = private_repo.run("db-migrate", MANAGER, env=env)
    assert up.returncode == 0, up
    rows = db.query(
        "SELECT checksum FROM pants_db_migrate.alembic_version_checksums WHERE revision = %s",
        revision,
    )
    assert rows == [(hashlib.sha256(path.read_bytes()).hexdigest(),)]


def test_a_role_that_cannot_create_the_ledger_migrates_with_a_warning(
    repo, new_database, histories
):
    db = new_database()
    role = f"limited_{db.name}"
    db.query(f"CREATE ROLE {role} LOGIN PASSWORD 'limited-pw'")
    db.query(f"ALTER SCHEMA public OWNER TO {role}")
    db.query(f"REVOKE CREATE ON DATABASE {db.name} FROM PUBLIC")
    url = f"postgresql+psycopg://{role}:limited-pw@{db.server.host}:{db.server.port}/{db.name}"
    result = repo.run("db-migrate", ACCOUNTMGR, env={"ACCOUNTMGR_DB_URL": url})
    assert result.returncode == 0, result
    assert "tamper detection is off" in result.stdout, result
    assert db.versions("alembic_version_accountmgr") == (histories["accountmgr"].head,)
    assert "pants_db_migrate" not in schemas(db)


# -- your own revision, edited while you work on it ------------------------------------------

WIP = "feed00000001"
SELECTOR = "src/ai/backend/manager/models/alembic:migrations"


def nickname_revision(repo, parent: str, length: int, comment: str = "") -> str:
    """The revision a developer is writing: a nickname column of `length` characters."""
    relpath = add_revision(
        repo,
        "manager",
        WIP,
        parent,
        "Add user nickname",
        f"op.add_column('users', sa.Column('nickname', sa.String({length})))",
        "op.drop_column('users', 'nickname')",
    )
    if comment:
        repo.write(relpath, repo.read(relpath) + f"\n# {comment}\n")
    return relpath


def nickname_length(db):
    rows = db.query(
        "SELECT character_maximum_length FROM information_schema.columns"
        " WHERE table_name = 'users' AND column_name = 'nickname'"
    )
    return rows[0][0] if rows else None


def ledger_checksum(db, revision: str):
    rows = db.query(
        "SELECT checksum FROM pants_db_migrate.alembic_version_checksums WHERE revision = %s",
        revision,
    )
    return rows[0][0] if rows else None


def sha256_of(repo, relpath: str) -> str:
    return hashlib.sha256((repo.root / relpath).read_bytes()).hexdigest()


def test_your_own_unreleased_revision_is_edited_downgraded_and_upgraded_again(
    private_repo, new_database, histories
):
    repo, head = private_repo, histories["manager"].head
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    init_main(repo)
    git(repo, "checkout", "-q", "-b", "nickname")
    created = repo.run(
        "db-create-migration", f"--rev-id={WIP}", "--message=Add user nickname", MANAGER, env=env
    )
    assert created.returncode == 0, created
    relpath = nickname_revision(repo, head, 32)  # the developer writes the body of that file
    assert relpath in created.stdout, created
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    assert nickname_length(db) == 32

    relpath = nickname_revision(repo, head, 64)  # ... and changes their mind
    status = repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0, status
    assert "State: ⚠️ Changed since applied (1 unreleased revision: work in progress)" in (
        status.stdout
    ), status
    assert f"{WIP} ({relpath})" in status.stdout and "not released" in status.stdout
    assert f"pants db-migrate --direction=downgrade --target={head} {SELECTOR}" in status.stdout
    assert "Never edit" not in status.output and "❌" not in status.output
    assert repo.run("db-status", "--check", MANAGER, env=env).returncode == 1

    down = repo.run("db-migrate", "--direction=downgrade", "--target=-1", MANAGER, env=env)
    assert down.returncode == 0, down
    assert f"⚠️ Warning: manager: {WIP} ({relpath}) changed since it ran" in down.stdout, down
    assert "not released (in no release pin, not on main)" in down.stdout
    assert "ran with sha256 " in down.stdout and sha256_of(repo, relpath)[:12] in down.stdout
    assert nickname_length(db) is None and ledger_checksum(db, WIP) is None
    up = repo.run("db-migrate", MANAGER, env=env)
    assert up.returncode == 0, up
    assert "Warning" not in up.stdout, up
    assert nickname_length(db) == 64
    assert ledger_checksum(db, WIP) == sha256_of(repo, relpath)  # refreshed by the re-upgrade
    again = repo.run("db-status", "--check", MANAGER, env=env)
    assert again.returncode == 0 and "State: ✅ Up-to-date" in again.stdout, again

    # Merged into the shared branch, the same file is released: editing it is refused.
    commit_all(repo, "nickname")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "nickname")
    nickname_revision(repo, head, 64, comment="tidied after the merge")
    before = snapshot(db)
    refused = repo.run(
        "db-migrate", "--direction=downgrade", "--target=-1", "--no-backup", MANAGER, env=env
    )
    assert refused.returncode == 1, refused
    assert "❌ Error: Applied migration changed since it ran" in refused.stderr
    assert f"{WIP} ({relpath})" in refused.stderr and "released: its file is on main" in (
        refused.stderr
    )
    retry = (
        "pants db-migrate --direction=downgrade --target=-1 --no-backup --allow-changed"
        f" {SELECTOR}"
    )
    assert retry in refused.stderr, refused
    assert f"git log -p -- {relpath}" in refused.stderr
    assert snapshot(db) == before
    status = repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0, status
    assert "State: ⚠️ Changed since applied (1 released revision)" in status.stdout, status
    assert repo.run("db-status", "--check", MANAGER, env=env).returncode == 1


def test_an_edited_pinned_revision_is_refused_with_the_users_own_command(
    private_repo, new_database, histories
):
    repo, head = private_repo, histories["manager"].head  # the head is pinned (releases.txt)
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    revision, path = applied_file(repo, histories, -1)
    assert revision == head
    path.write_text(path.read_text() + "\n# a harmless comment\n")
    before = snapshot(db)
    args = ("--direction=downgrade", "--target=-1", "--no-backup", "--lock-timeout=30")
    refused = repo.run("db-migrate", *args, MANAGER, env=env)
    assert refused.returncode == 1, refused
    assert "❌ Error: Applied migration changed since it ran" in refused.stderr
    assert "released: in release 25.03.0" in refused.stderr, refused
    # No git here: only the release pins can say what is released, and it says so.
    assert "only release pins count as released" in refused.output, refused
    assert f"pants db-migrate {' '.join(args)} --allow-changed {SELECTOR}" in refused.stderr
    assert snapshot(db) == before
    status = repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0, status
    assert "State: ⚠️ Changed since applied (1 released revision)" in status.stdout, status
    assert repo.run("db-status", "--check", MANAGER, env=env).returncode == 1
    allowed = repo.run("db-migrate", *args, "--allow-changed", MANAGER, env=env)
    assert allowed.returncode == 0, allowed
    assert db.versions("alembic_version") == histories["manager"].parent(head)


# -- one lock per operation ------------------------------------------------------------------

VERSION_LOG = """
CREATE TABLE version_log (at timestamptz DEFAULT clock_timestamp(), pid int DEFAULT pg_backend_pid(),
                          old text, new text);
CREATE FUNCTION log_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO version_log (old, new) VALUES (
    CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.version_num END,
    CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.version_num END);
  RETURN NULL;
END $$;
CREATE TRIGGER log_version AFTER INSERT OR UPDATE OR DELETE ON alembic_version_appproxy
  FOR EACH ROW EXECUTE FUNCTION log_version();
"""


def lock_holder(db):
    rows = db.query(
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
    )
    return rows[0][0] if rows else None


RACER_WAIT = """op.execute(
        \"\"\"
        DO $$
        BEGIN
          IF to_regclass('version_log') IS NOT NULL THEN
            FOR i IN 1..3000 LOOP
              PERFORM pg_stat_clear_snapshot();  -- else this transaction sees its first look only
              EXIT WHEN EXISTS (
                SELECT 1 FROM pg_stat_activity
                WHERE query LIKE 'SELECT pg_try_advisory_lock%%'
                  AND pid <> pg_backend_pid()
                  AND pid NOT IN (SELECT pid FROM pg_locks
                                  WHERE locktype = 'advisory' AND granted)
              );
              PERFORM pg_sleep(0.1);
            END LOOP;
          END IF;
        END $$
        \"\"\"
    )"""


def test_a_rebase_holds_one_lock_from_its_downgrade_to_its_re_upgrade(
    private_repo, new_database, histories
):
    repo, head = private_repo, histories["appproxy"].head
    db = new_database()
    env = {"APPPROXY_DB_URL": db.url}
    init_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    add_revision(
        repo,
        "appproxy",
        "f00d00000001",
        head,
        "Mine",
        # Only once the log exists (during the rebase's re-upgrade): hold the lock until a second
        # session waits for it, however long that Pants run takes to start on a busy machine.
        RACER_WAIT,
    )
    commit_all(repo, "mine")
    assert repo.run("db-migrate", APPPROXY, env=env).returncode == 0
    git(repo, "checkout", "-q", "main")
    add_revision(repo, "appproxy", "cafe00000001", head, "Theirs")
    commit_all(repo, "theirs")
    git(repo, "checkout", "-q", "feature")
    git(repo, "merge", "-q", "--no-edit", "main")
    db.query(VERSION_LOG)

    full_env = {**repo.base_env(), **env}
    rebase = subprocess.Popen(
        ["./pants", "db-rebase", "--allow-active-sessions", APPPROXY],
        cwd=repo.root,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline, holder = time.monotonic() + 300, None
    while holder is None and time.monotonic() < deadline and rebase.poll() is None:
        holder = lock_holder(db)
        time.sleep(0.05)
    assert holder is not None, "the rebase never took the lock"
    racer = repo.run(
        "db-migrate",
        "--direction=downgrade",
        "--target=-1",
        "--no-backup",
        "--allow-active-sessions",
        "--lock-timeout=600",
        APPPROXY,
        env={**env, "PANTS_CONCURRENT": "True"},  # a second Pants run, not queued behind the first
    )
    out, _ = rebase.communicate(timeout=600)
    assert rebase.returncode == 0, out
    assert racer.returncode == 0, racer
    assert f"held by pid {holder}" in racer.stdout, racer
    news = [r[0] for r in db.query("SELECT new FROM version_log ORDER BY at")]
    # the rebase: down to the fork, up through theirs and mine; only then the racer's step down
    assert news == [head, "cafe00000001", "f00d00000001", "cafe00000001"], news


# -- backups ---------------------------------------------------------------------------------


def test_backups_are_private_and_restore_as_printed(repo, new_database, histories):
    source, target = new_database(), new_database()
    assert repo.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": source.url}).returncode == 0
    source.query("INSERT INTO domains (name, description) VALUES ('restored', 'a row to keep')")
    rows = source.query("SELECT name, description FROM domains ORDER BY name")
    down = repo.run(
        "db-migrate",
        "--direction=downgrade",
        "--target=-1",
        MANAGER,
        env={"MANAGER_DB_URL": source.url},
    )
    assert down.returncode == 0, down
    (backup,) = re.findall(r"^Backup: (\S+)$", down.stdout, re.M)
    assert os.stat(backup).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(backup)).st_mode & 0o777 == 0o700
    (command,) = re.findall(r"^Restore with: (.+)$", down.stdout, re.M)
    assert shlex.split(command)[:2] == ["./pants", "db-restore"], command
    restored = subprocess.run(
        command,
        shell=True,
        cwd=repo.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**repo.base_env(), "MANAGER_DB_URL": target.url},
        timeout=600,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert target.query("SELECT name, description FROM domains ORDER BY name") == rows
    assert target.versions("alembic_version") == (histories["manager"].head,)


# -- live sessions ---------------------------------------------------------------------------


def test_a_downgrade_with_another_session_is_refused_and_names_it(repo, new_database):
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    before = snapshot(db)
    with psycopg.connect(db.server.conninfo(db.name, application_name="billing-service")):
        dry = repo.run(
            "db-migrate", "--dry-run", "--direction=downgrade", "--target=-1", MANAGER, env=env
        )
        assert "billing-service" in dry.stdout, dry
        refused = repo.run("db-migrate", "--direction=downgrade", "--target=-1", MANAGER, env=env)
        assert refused.returncode == 1, refused
        assert "❌ Error: Other sessions are connected to the database" in refused.stderr
        assert "billing-service" in refused.stderr and "--allow-active-sessions" in refused.stderr
        assert "Traceback" not in refused.output
        assert snapshot(db) == before
        forced = repo.run(
            "db-migrate",
            "--direction=downgrade",
            "--target=-1",
            "--allow-active-sessions",
            MANAGER,
            env=env,
        )
        assert forced.returncode == 0, forced
        up = repo.run("db-migrate", MANAGER, env=env)
        assert up.returncode == 0 and "billing-service" in up.stdout, up


# -- the user's settings, and secrets --------------------------------------------------------


def test_the_users_pgoptions_reach_both_connections(repo, new_database, histories):
    db = new_database()
    db.query("CREATE SCHEMA app")
    env = {"MANAGER_DB_URL": db.url, "PGOPTIONS": "-c search_path=app"}
    first = repo.run("db-migrate", MANAGER, env=env)
    assert first.returncode == 0, first
    in_app = {r[0] for r in db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'app'")}
    assert {"users", "alembic_version"} <= in_app  # Alembic's connection used it
    again = repo.run("db-migrate", MANAGER, env=env)  # ours found the version table through it
    assert f"manager is up-to-date at {histories['manager'].head}" in again.stdout, again


def test_an_error_that_echoes_the_url_prints_no_password(
    private_repo, new_database, histories, pg_server
):
    db = new_database()
    password = "s3cr:t/P@ss%wörd"
    db.query(f"CREATE ROLE echoer LOGIN SUPERUSER PASSWORD '{password}'")  # no quote in it
    url = f"postgresql+psycopg://echoer:{quote(password, safe='')}@{db.server.host}:{db.server.port}/{db.name}"
    head = histories["manager"].head
    add_revision(
        private_repo,
        "manager",
        "ec4000000001",
        head,
        "Echo",
        "import os\nop.execute(\"SELECT '\" + os.environ['MANAGER_DB_URL'] + \"'::int\")",
    )
    assert (
        private_repo.run(
            "db-migrate", f"--target={head}", MANAGER, env={"MANAGER_DB_URL": url}
        ).returncode
        == 0
    )
    result = private_repo.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": url})
    assert result.returncode == 1, result
    assert "invalid input syntax" in result.stderr, result
    for secret in (password, quote(password, safe=""), quote(password)):
        assert secret not in result.output
    assert "echoer:***@" in result.stderr


def test_a_bad_output_names_the_bad_value(repo):
    result = repo.run("db-status", "--output=bogus", MANAGER)
    assert result.returncode == 2, result
    assert "❌ Error: Invalid output 'bogus'" in result.stderr

"""Bad input, tried: each case gets docs/specification.md's error block, a non-zero exit code, no
traceback, and leaves the database exactly as it was."""

from __future__ import annotations

import contextlib
import re
import shutil

import psycopg
import pytest
from e2e.conftest import COMPONENTS, _isolated_copy, _shutdown, add_revision, snapshot

from db_migrate.core.applied import lock_key

MANAGER = "src/ai/backend/manager::"
MANAGER_DIR = COMPONENTS["manager"][0]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A repo copy whose files the tests of this module edit, one at a time, and restore."""
    copy = _isolated_copy(tmp_path_factory.mktemp("scratch"))
    yield copy
    _shutdown(copy)


@contextlib.contextmanager
def edited(repo, relpath: str, new_text: str | None):
    """Replace (or with None, delete) a file for the duration of the block."""
    path = repo.root / relpath
    old = path.read_text() if path.exists() else None
    if new_text is None:
        path.unlink()
    else:
        path.write_text(new_text)
    try:
        yield
    finally:
        if old is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(old)


@pytest.fixture
def mid_db(new_database, histories, repo):
    """A manager database at a revision in the middle of its history: both directions possible."""
    db = new_database()
    ordered = histories["manager"].ordered()
    mid = ordered[len(ordered) // 2]
    result = repo.run("db-migrate", f"--target={mid}", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert result.returncode == 0, result
    return db, mid, ordered


def assert_refused(result, title: str, db=None, before=None):
    assert result.returncode != 0, result
    assert f"❌ Error: {title}" in result.stderr, result
    assert "Recommended actions:" in result.stderr, result
    assert "Traceback" not in result.output, result
    if db is not None:
        assert snapshot(db) == before, "the database changed"


# -- arguments -------------------------------------------------------------------------------


ARGUMENT_CASES = [
    pytest.param(["src/nope::"], "No migration target for", id="unknown-spec"),
    pytest.param(["pants-plugins::"], "No migration target for", id="spec-without-component"),
    pytest.param(
        ["--db-migrations-default-specs=[]"], "No components selected", id="no-spec-no-default"
    ),
    pytest.param(
        ["--direction=sideways", MANAGER], "Invalid direction 'sideways'", id="bad-direction"
    ),
    pytest.param(["--target=+x", MANAGER], "Invalid target '+x'", id="malformed-relative"),
    pytest.param(["--target=+0", MANAGER], "Invalid target '+0'", id="zero-step"),
    pytest.param(["--target=1..2", MANAGER], "Invalid target '1..2'", id="garbage-target"),
    pytest.param(
        ["--target=abc123", MANAGER], "Cannot locate revision 'abc123'", id="unknown-revision"
    ),
    pytest.param(["--target=cf", MANAGER], "Cannot locate revision 'cf'", id="ambiguous-revision"),
    pytest.param(
        ["--direction=downgrade", MANAGER],
        "Downgrade needs a target",
        id="downgrade-without-target",
    ),
]


@pytest.mark.parametrize("args, title", ARGUMENT_CASES)
def test_bad_arguments(repo, mid_db, args, title):
    db, _, _ = mid_db
    before = snapshot(db)
    result = repo.run("db-migrate", *args, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, title, db, before)


def test_unknown_revision_suggests_the_closest(repo, mid_db):
    db, mid, _ = mid_db
    typo = mid[:-1] + ("0" if mid[-1] != "0" else "1")
    result = repo.run("db-migrate", f"--target={typo}", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, f"Cannot locate revision '{typo}'", db, snapshot(db))
    assert f"Closest revisions: {mid}" in result.stderr


def test_downgrade_to_a_revision_above_the_current_one(repo, mid_db):
    db, mid, ordered = mid_db
    later = ordered[ordered.index(mid) + 2]
    before = snapshot(db)
    result = repo.run(
        "db-migrate",
        "--direction=downgrade",
        f"--target={later}",
        MANAGER,
        env={"MANAGER_DB_URL": db.url},
    )
    assert_refused(result, f"Cannot downgrade to {later}", db, before)
    assert "Did you mean --direction=upgrade?" in result.stderr


def test_upgrade_to_a_revision_below_the_current_one(repo, mid_db):
    db, mid, ordered = mid_db
    earlier = ordered[ordered.index(mid) - 2]
    before = snapshot(db)
    result = repo.run("db-migrate", f"--target={earlier}", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, f"Cannot upgrade to {earlier}", db, before)
    assert "Did you mean --direction=downgrade?" in result.stderr


def test_relative_step_beyond_base(repo, mid_db):
    db, _, _ = mid_db
    before = snapshot(db)
    result = repo.run(
        "db-migrate",
        "--direction=downgrade",
        "--target=-100",
        MANAGER,
        env={"MANAGER_DB_URL": db.url},
    )
    assert_refused(result, "Cannot downgrade to -100", db, before)


# -- the database ----------------------------------------------------------------------------


def advice(result) -> list:
    """The numbered recommended actions of the error block, in order."""
    block = result.stderr.split("Recommended actions:\n", 1)[1]
    return re.findall(r"^\d+\. (.+)$", block.split("\n\n", 1)[0], re.M)


def assert_no_self_recommendation(result, goal: str) -> None:
    assert f"Related goal: pants {goal}" not in result.output, result
    assert not [a for a in advice(result) if f"pants {goal}" in a], result


CONNECTING_GOALS = ("db-migrate", "db-status")


@pytest.mark.parametrize("goal", CONNECTING_GOALS)
def test_database_unreachable(repo, goal):
    result = repo.run(
        goal,
        MANAGER,
        env={"MANAGER_DB_URL": "postgresql+psycopg://u:secret-x@127.0.0.1:9/db"},
    )
    assert_refused(result, "Cannot connect to database")
    assert "Connection refused to 127.0.0.1:9" in result.stderr
    assert advice(result) == [
        "Check PostgreSQL is running: pg_isready -h 127.0.0.1 -p 9",
        "Start the database server, or point manager at a running one with MANAGER_DB_URL",
        "Check the host and port in MANAGER_DB_URL",
    ]
    assert_no_self_recommendation(result, goal)
    assert "secret-x" not in result.output


def test_unknown_host(repo):
    result = repo.run(
        "db-migrate",
        MANAGER,
        env={"MANAGER_DB_URL": "postgresql+psycopg://u:pw-x@no-such-host.invalid:5432/db"},
    )
    assert_refused(result, "Cannot connect to database")
    assert "Unknown host 'no-such-host.invalid'" in result.stderr
    assert advice(result)[0] == (
        "Check the host name in MANAGER_DB_URL: 'no-such-host.invalid' does not resolve"
    )


@pytest.mark.parametrize("goal", CONNECTING_GOALS)
def test_wrong_password(repo, mid_db, pg_server, goal):
    db, _, _ = mid_db
    before = snapshot(db)
    url = db.url.replace(f":{pg_server.password}@", ":definitely-wrong@")
    result = repo.run(goal, MANAGER, env={"MANAGER_DB_URL": url})
    assert_refused(result, "Cannot connect to database", db, before)
    assert "Password authentication failed for user 'postgres'" in result.stderr
    where = f"{pg_server.host}:{pg_server.port}"
    assert advice(result) == [
        "Check the password of user 'postgres' in MANAGER_DB_URL",
        "URL-encode a password holding @ : / % # ? or spaces (e.g. @ as %40)",
        f'Try it by hand: psql "postgresql://postgres@{where}/{db.name}" (asks for the password)',
    ]
    assert "pg_isready" not in result.output and "Start the database" not in result.output
    assert_no_self_recommendation(result, goal)
    assert "definitely-wrong" not in result.output and pg_server.password not in result.output


@pytest.mark.parametrize("goal", CONNECTING_GOALS)
def test_missing_database(repo, pg_server, goal):
    url = pg_server.url("no_such_database")
    result = repo.run(goal, MANAGER, env={"MANAGER_DB_URL": url})
    assert_refused(result, "Cannot connect to database")
    assert "Database 'no_such_database' does not exist" in result.stderr
    assert advice(result) == [
        f"Create it: createdb -h {pg_server.host} -p {pg_server.port} -U postgres no_such_database",
        "Or name an existing database in MANAGER_DB_URL",
    ]
    assert_no_self_recommendation(result, goal)
    assert not pg_server.database_exists("no_such_database")


def test_invalid_url(repo):
    result = repo.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": "mysql://u:p@localhost/db"})
    assert_refused(result, "Invalid database URL")


def test_database_at_an_unknown_revision(repo, mid_db):
    db, mid, _ = mid_db
    db.query("UPDATE alembic_version SET version_num = 'feedface0000'")
    before = snapshot(db)
    result = repo.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Database is ahead of this code", db, before)
    assert "feedface0000" in result.stderr


def test_lock_held_by_another_session(repo, mid_db):
    db, _, _ = mid_db
    before = snapshot(db)
    with psycopg.connect(
        db.server.conninfo(db.name, application_name="someone-else"), autocommit=True
    ) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key("alembic_version"),))
        pid = holder.info.backend_pid
        result = repo.run("db-migrate", "--lock-timeout=2", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Another migration is running", db, before)
    assert f"Held by pid {pid} (application 'someone-else'" in result.stderr


# -- the files -------------------------------------------------------------------------------


def _revision_path(repo, revision: str) -> str:
    (path,) = (repo.root / MANAGER_DIR / "versions").glob(f"{revision}_*.py")
    return str(path.relative_to(repo.root))


def test_missing_ini(scratch, new_database):
    db = new_database()
    with edited(scratch, "alembic.ini", None):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Alembic config not found", db, snapshot(db))
    assert "alembic.ini" in result.stderr


def test_ini_without_script_location(scratch, new_database):
    db = new_database()
    text = re.sub(r"(?m)^script_location.*\n", "", scratch.read("alembic.ini"))
    with edited(scratch, "alembic.ini", text):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Invalid Alembic config", db, snapshot(db))
    assert "no `script_location`" in result.stderr


def test_ini_pointing_elsewhere(scratch, new_database):
    db = new_database()
    text = scratch.read("alembic.ini").replace("manager/models/alembic", "appproxy/models/alembic")
    with edited(scratch, "alembic.ini", text):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Alembic config points elsewhere", db, snapshot(db))


def test_missing_versions_folder(private_repo, new_database):
    # A repo of its own: pantsd's file watcher would not follow a folder moved away and back.
    db = new_database()
    shutil.rmtree(private_repo.root / MANAGER_DIR / "versions")
    result = private_repo.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "No revision files", db, snapshot(db))
    assert f"{MANAGER_DIR}/versions/" in result.stderr


def test_dangling_down_revision(scratch, new_database, histories):
    db = new_database()
    head = histories["manager"].head
    path = _revision_path(scratch, head)
    (parent,) = histories["manager"].parent(head)
    with edited(scratch, path, scratch.read(path).replace(f'"{parent}"', '"0123456789ab"')):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Migration file not found", db, snapshot(db))
    assert "0123456789ab" in result.stderr and path in result.stderr


def test_duplicate_revision_ids(scratch, new_database, histories):
    db = new_database()
    head = histories["manager"].head
    path = _revision_path(scratch, head)
    copy = f"{MANAGER_DIR}/versions/ffffffffffff_copy_of_head.py"
    with edited(scratch, copy, scratch.read(path)):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, f"Duplicate revision id '{head}'", db, snapshot(db))
    assert path in result.stderr and copy in result.stderr


def test_syntax_error_in_a_revision(scratch, new_database, histories):
    db = new_database()
    path = _revision_path(scratch, histories["manager"].head)
    text = scratch.read(path).replace("def upgrade() -> None:", "def upgrade() -> None\n")
    with edited(scratch, path, text):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Cannot parse revision file", db, snapshot(db))
    assert re.search(rf"{re.escape(path)}:\d+", result.stderr)


def test_multiple_heads(scratch, new_database, histories):
    db = new_database()
    ordered = histories["manager"].ordered()
    relpath = add_revision(scratch, "manager", "b0b0b0b0b0b0", ordered[3], "A stray branch")
    try:
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
        lint = scratch.run("lint", "--only=alembic-history", MANAGER)
    finally:
        (scratch.root / relpath).unlink()
    assert_refused(result, "Multiple heads detected", db, snapshot(db))
    assert (
        "b0b0b0b0b0b0: A stray branch" in result.stderr
        and histories["manager"].head in result.stderr
    )
    assert "pants db-rebase" in result.stderr
    # CI catches it with no database at all.
    assert lint.returncode != 0 and "Multiple heads detected" in lint.output, lint


def test_revision_cycle(scratch, new_database, histories):
    db = new_database()
    ordered = histories["manager"].ordered()
    first = _revision_path(scratch, ordered[0])
    text = scratch.read(first).replace("down_revision = None", f'down_revision = "{ordered[2]}"')
    assert text != scratch.read(first)
    with edited(scratch, first, text):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Revision cycle detected", db, snapshot(db))


def test_missing_env_py(scratch, new_database):
    db = new_database()
    with edited(scratch, f"{MANAGER_DIR}/env.py", None):
        result = scratch.run("db-migrate", MANAGER, env={"MANAGER_DB_URL": db.url})
    assert_refused(result, "Alembic environment not found", db, snapshot(db))

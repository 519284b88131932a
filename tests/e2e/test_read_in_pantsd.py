"""`db-status` and a no-op `db-migrate` answered inside pantsd (`goals/in_pantsd.py`): the same
words and report as the runner's, and every case where the runner must answer instead (a held
lock, an edited or unrecorded revision, a stale ledger row, a libpq setting in pantsd's own
environment without pantsd, a bad password), told by the runner as before, with the database left as the runner
leaves it.

Which side answered is read from `DB_MIGRATE_TIMING=1`'s lines: `pantsd ... answered=yes` for
pantsd, `runner ...` for a runner process.
"""

from __future__ import annotations

import json

import psycopg
from e2e.conftest import COMPONENTS
from sqlalchemy.engine import make_url

from db_migrate.core.applied import lock_key

APPPROXY = "src/ai/backend/appproxy::"
MANAGER = "src/ai/backend/manager::"
URL_ENV, TABLE = COMPONENTS["appproxy"][1], COMPONENTS["appproxy"][2]
LEDGER = f"pants_db_migrate.{TABLE}_checksums"
OFF = "--db-migrations-read-in-pantsd=false"


def run(repo, db, goal, *args, url=None, env=None):
    extra = {URL_ENV: url or db.url, "DB_MIGRATE_TIMING": "1", **(env or {})}
    return repo.run(goal, *args, APPPROXY, env=extra)


def in_pantsd(result) -> bool:
    """pantsd answered, and no runner process ran."""
    return "answered=yes" in result.stderr and "db-migrate timing: runner" not in result.stderr


def by_runner(result) -> bool:
    return "answered=yes" not in result.stderr and "db-migrate timing: runner" in result.stderr


def words(result) -> str:
    """What the user reads: stdout, and stderr without Pants' log lines and the timing lines."""
    said = [
        line
        for line in result.stderr.splitlines()
        if " [INFO] " not in line and "db-migrate timing:" not in line
    ]
    return result.stdout + "\n".join(said)


def ledger(db) -> list:
    return db.query(f"SELECT revision, checksum, applied_at FROM {LEDGER} ORDER BY revision")


def test_same_answers_from_pantsd_and_the_runner(repo, new_database):
    db = new_database()
    first = run(repo, db, "db-migrate")
    assert first.returncode == 0 and not in_pantsd(first), first
    rows = ledger(db)

    for args in ((), ("--history",), ("--check",)):
        fast, slow = run(repo, db, "db-status", *args), run(repo, db, "db-status", OFF, *args)
        assert fast.returncode == slow.returncode == 0, (fast, slow)
        assert in_pantsd(fast) and by_runner(slow), (fast, slow)
        assert words(fast) == words(slow)
        assert "State: ✅ Up-to-date" in fast.stdout

    fast = run(repo, db, "db-status", "--output=json")
    slow = run(repo, db, "db-status", "--output=json", OFF)
    assert in_pantsd(fast) and json.loads(fast.stdout) == json.loads(slow.stdout)

    fast, slow = run(repo, db, "db-migrate"), run(repo, db, "db-migrate", OFF)
    assert fast.returncode == slow.returncode == 0, (fast, slow)
    assert in_pantsd(fast) and by_runner(slow), (fast, slow)
    assert words(fast) == words(slow) and "appproxy is up-to-date at " in fast.stdout

    fast = json.loads(run(repo, db, "db-migrate", "--output=json").stdout)
    slow = json.loads(run(repo, db, "db-migrate", "--output=json", OFF).stdout)
    for report in (fast, slow):
        for component in report["components"]:
            component.pop("seconds")
    assert fast == slow
    assert ledger(db) == rows, "a no-op wrote to the ledger"


def test_the_runner_answers_what_is_not_plain(repo, new_database, histories):
    db = new_database()
    assert run(repo, db, "db-migrate").returncode == 0
    ordered = histories["appproxy"].ordered()

    # Another migration holds the lock: the runner waits, and says who holds it.
    with psycopg.connect(db.server.conninfo(db.name), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock_key(TABLE),))
        held = run(repo, db, "db-migrate", "--lock-timeout=1")
    assert held.returncode != 0 and by_runner(held), held
    assert "Another migration is running" in held.stderr

    # An applied revision recorded with another checksum: an edit, which only the runner judges.
    db.query(f"UPDATE {LEDGER} SET checksum = repeat('0', 64) WHERE revision = %s", ordered[0])
    changed = run(repo, db, "db-status")
    assert by_runner(changed) and "Changed since applied" in changed.stdout, changed
    db.query(f"DELETE FROM {LEDGER} WHERE revision = %s", ordered[0])

    # An applied revision with no row: db-status tells it, db-migrate records it.
    unrecorded = run(repo, db, "db-status")
    assert by_runner(unrecorded) and "Unrecorded: 1 applied revision" in unrecorded.stdout
    recorded = run(repo, db, "db-migrate")
    assert recorded.returncode == 0 and by_runner(recorded), recorded
    assert "recorded checksums for 1 revision applied outside pants" in recorded.stdout
    assert len(ledger(db)) == len(ordered)

    # A row of a revision not applied: the runner's no-op drops it.
    db.query(
        f"INSERT INTO {LEDGER} (revision, checksum, path) VALUES ('feedface', repeat('1', 64), 'x')"
    )
    stale = run(repo, db, "db-migrate")
    assert stale.returncode == 0 and by_runner(stale), stale
    assert len(ledger(db)) == len(ordered)

    # Now plain again: pantsd answers.
    assert in_pantsd(run(repo, db, "db-migrate")) and in_pantsd(run(repo, db, "db-status"))


def test_a_bad_password_is_the_runners_error(repo, new_database):
    db = new_database()
    url = make_url(db.url).set(password="Wr0ngPassw0rd").render_as_string(hide_password=False)
    for goal in ("db-status", "db-migrate"):
        result = run(repo, db, goal, url=url)
        assert result.returncode != 0 and "Traceback" not in result.output, result
        assert "Cannot connect to database" in result.stderr, result
        assert "Password authentication failed" in result.stderr, result
        assert "Wr0ngPassw0rd" not in result.output and by_runner(result), result


def test_a_libpq_variable_reaches_the_runner_as_before(repo, new_database):
    """libpq reads PG* variables from its process's environment. pantsd's holds none of the user's
    (Pants keeps HOME, PATH and USER), like the runner's (it passes only a few, as parameters):
    pantsd answers. Without pantsd the goal runs in the user's own environment, where libpq
    would read them: the runner answers."""
    db = new_database()
    assert run(repo, db, "db-migrate").returncode == 0
    shell = {"PGAPPNAME": "set-in-the-shell"}
    with_pantsd = run(repo, db, "db-status", env=shell)
    assert with_pantsd.returncode == 0 and in_pantsd(with_pantsd), with_pantsd
    without = run(repo, db, "db-status", env={**shell, "PANTS_PANTSD": "false"})
    assert without.returncode == 0 and by_runner(without), without
    assert words(without) == words(with_pantsd)


def test_this_checkouts_development_server_is_read_in_pantsd(repo):
    """The manager's ini names the development server: pantsd reads it once its data folder is
    this checkout's (another checkout's server is the runner's to refuse: test_two_checkouts)."""
    env = {"DB_MIGRATE_TIMING": "1"}
    first = repo.run("db-migrate", MANAGER, env=env)  # starts the server, creates the database
    assert first.returncode == 0 and not in_pantsd(first), first
    status = repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0 and in_pantsd(status), status
    assert "State: ✅ Up-to-date" in status.stdout
    again = repo.run("db-migrate", MANAGER, env=env)
    assert again.returncode == 0 and in_pantsd(again), again
    assert "manager is up-to-date at " in again.stdout

"""Accepting a reviewed edit of a released revision: `db-migrate --accept-changed --reason=...`.

After a harmless reformat of a released revision, `--allow-changed` records nothing: every later
run would need it, and a CI that passes it would miss every later edit. Accepting records the
file's checksum in the ledger (the old one kept, with when, who, the git commit and why), so runs
need no flag, db-status is clean, and the next edit of the same file is caught again.
"""

from __future__ import annotations

import getpass
import json

import psycopg
from e2e.conftest import COMPONENTS, snapshot
from e2e.test_db_rebase import commit_all, git, init_main

from db_migrate.core.applied import lock_key

MANAGER = "src/ai/backend/manager::"
LEDGER = "pants_db_migrate.alembic_version_checksums"
ACCEPTED = "pants_db_migrate.alembic_version_accepted_edits"
REASON = "Black reformat, no SQL change"


def recorded(db, revision: str) -> str:
    return db.query(f"SELECT checksum FROM {LEDGER} WHERE revision = %s", revision)[0][0]


def has_table(db, name: str) -> bool:
    return db.query("SELECT to_regclass(%s) IS NOT NULL", name)[0][0]


def test_an_accepted_edit_needs_no_flag_afterwards_and_the_next_edit_is_caught(
    private_repo, new_database, histories
):
    repo = private_repo
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    init_main(repo)  # the revision files are on main: released
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    first = histories["manager"].ordered()[0]
    (path,) = (repo.root / COMPONENTS["manager"][0] / "versions").glob(f"{first}_*.py")
    relpath = str(path.relative_to(repo.root))
    ran = recorded(db, first)
    path.write_text(path.read_text() + "\n# reformatted\n")
    commit_all(repo, "reformat a released revision")
    head_commit = git(repo, "rev-parse", "HEAD").strip()
    before = snapshot(db)

    refused = repo.run("db-migrate", MANAGER, env=env)
    assert refused.returncode == 1, refused
    assert "❌ Error: Applied migration changed since it ran" in refused.stderr
    assert "pants db-migrate --accept-changed --reason=" in refused.stderr

    # A ledger as the code before accepted edits wrote it: db-status reads it as always.
    assert not has_table(db, ACCEPTED)
    status = repo.run("db-status", MANAGER, env=env)
    assert status.returncode == 0 and "Changed since applied (1 released revision)" in status.stdout

    no_reason = repo.run("db-migrate", "--accept-changed", MANAGER, env=env)
    assert no_reason.returncode == 2, no_reason
    assert "❌ Error: --accept-changed needs --reason" in no_reason.stderr
    assert "Traceback" not in no_reason.output
    dry = repo.run(
        "db-migrate", "--accept-changed", "--dry-run", f"--reason={REASON}", MANAGER, env=env
    )
    assert dry.returncode == 0 and "Nothing was recorded (--dry-run)." in dry.stdout, dry
    assert f"  - {first} ({relpath}): sha256 {ran[:12]}…" in dry.stdout
    assert recorded(db, first) == ran and not has_table(db, ACCEPTED)

    accepted = repo.run(
        "db-migrate",
        "--accept-changed",
        f"--reason={REASON}",
        "--report-file=dist/accept.json",
        MANAGER,
        env=env,
    )
    assert accepted.returncode == 0, accepted
    assert "✅ Changed revisions accepted as reviewed" in accepted.stdout
    assert f"  - {first} ({relpath}): sha256 {ran[:12]}…" in accepted.stdout
    assert f"Reason: {REASON}" in accepted.stdout and "No migration ran." in accepted.stdout
    assert f"at git commit {head_commit[:12]} (the accepted files as committed)" in accepted.stdout
    assert snapshot(db) == before  # no migration ran
    assert recorded(db, first) != ran
    (component,) = json.loads(repo.read("dist/accept.json"))["components"]
    assert component["status"] == "accepted"
    (edit,) = component["accepted_edits"]
    assert (edit["revision"], edit["path"], edit["old_checksum"]) == (first, relpath, ran)
    assert edit["new_checksum"] == recorded(db, first) and edit["reason"] == REASON
    assert (edit["os_user"], edit["git_commit"], edit["in_commit"]) == (
        getpass.getuser(),
        head_commit,
        True,
    )
    assert edit["released"] == "in release 24.03.0" and edit["accepted_at"]

    # From now on: no flag, a clean status, and the accepted edit in the history.
    rerun = repo.run("db-migrate", MANAGER, env=env)
    assert rerun.returncode == 0 and "Changed" not in rerun.output, rerun
    check = repo.run("db-status", "--check", MANAGER, env=env)
    assert check.returncode == 0 and "State: ✅ Up-to-date" in check.stdout, check
    assert "Accepted edits: 1 edit of released revisions recorded as reviewed" in check.stdout
    history = repo.run("db-status", "--history", "--report-file=dist/status.json", MANAGER, env=env)
    assert history.returncode == 0, history
    assert "Accepted edits (1, oldest first" in history.stdout
    assert f"{first} ({relpath}): sha256 {ran[:12]}… →" in history.stdout
    assert f"by {getpass.getuser()}, at git commit {head_commit[:12]}" in history.stdout
    assert history.stdout.rstrip().endswith(f": {REASON}"), history.stdout
    (state,) = json.loads(repo.read("dist/status.json"))["components"]
    assert [e["reason"] for e in state["accepted_edits"]] == [REASON]

    # The next edit of the same file is caught again.
    path.write_text(path.read_text() + "# and edited again\n")
    again = repo.run("db-migrate", MANAGER, env=env)
    assert again.returncode == 1, again
    assert "❌ Error: Applied migration changed since it ran" in again.stderr
    assert f"accepted as sha256 {recorded(db, first)[:12]}… on" in again.stderr


def test_accepting_takes_the_migration_lock(private_repo, new_database, histories):
    repo = private_repo
    db = new_database()
    env = {"MANAGER_DB_URL": db.url}
    assert repo.run("db-migrate", MANAGER, env=env).returncode == 0
    first = histories["manager"].ordered()[0]
    (path,) = (repo.root / COMPONENTS["manager"][0] / "versions").glob(f"{first}_*.py")
    path.write_text(path.read_text() + "\n# reformatted\n")
    ran = recorded(db, first)
    with psycopg.connect(db.server.conninfo(db.name), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock_key("alembic_version"),))
        locked = repo.run(
            "db-migrate", "--accept-changed", "--reason=ok", "--lock-timeout=1", MANAGER, env=env
        )
    assert locked.returncode == 1, locked
    assert "❌ Error: Another migration is running" in locked.stderr
    assert recorded(db, first) == ran and not has_table(db, ACCEPTED)
    # Without git, the release pins say what is released (the first revision is in 24.03.0).
    accepted = repo.run("db-migrate", "--accept-changed", "--reason=ok", MANAGER, env=env)
    assert accepted.returncode == 0, accepted
    assert "git commit unknown (not a git checkout)" in accepted.stdout
    assert recorded(db, first) != ran

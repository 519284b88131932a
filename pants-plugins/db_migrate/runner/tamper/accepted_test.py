from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from testsupport import postgres as pgtesting

from db_migrate.core import applied
from db_migrate.core.revision_file import Revision
from db_migrate.runner.tamper import accepted, ledger

# The real-PostgreSQL fixtures (see runner/postgres/server_test.py for why they are bound here).
pg_server = pgtesting.pg_server
pg_database = pgtesting.pg_database

VERSION_TABLE = "alembic_version"
# A ledger as pants-db-migrate wrote it before edits could be accepted (its DDL, verbatim): the
# databases in use have it, and must keep working.
LEDGER_BEFORE_ACCEPTED_EDITS = (
    "CREATE SCHEMA IF NOT EXISTS pants_db_migrate",
    "CREATE TABLE IF NOT EXISTS pants_db_migrate.alembic_version_checksums (revision varchar(255)"
    " PRIMARY KEY, checksum char(64) NOT NULL, path text NOT NULL, applied_at timestamptz NOT NULL"
    " DEFAULT now())",
)
A, B, C = "a" * 64, "b" * 64, "c" * 64


def fact(revision: str, checksum: str, parent=()) -> Revision:
    return Revision(
        revision,
        parent,
        message=f"Step {revision}",
        path=f"versions/{revision}.py",
        checksum=checksum,
    )


@pytest.fixture
def conn(pg_server, pg_database):
    with psycopg.connect(pg_server.conninfo(pg_database), autocommit=True) as connection:
        for statement in LEDGER_BEFORE_ACCEPTED_EDITS:
            connection.execute(statement)
        connection.execute(
            "INSERT INTO pants_db_migrate.alembic_version_checksums (revision, checksum, path)"
            " VALUES ('r1', %s, 'versions/r1.py'), ('r2', %s, 'versions/r2.py')",
            (A, A),
        )
        yield connection


def changes(conn, facts):
    rows = applied.recorded(conn, VERSION_TABLE)
    by_id = {f.revision: f for f in facts}
    return applied.audit(rows, {"r1", "r2"}, by_id).changed


def test_a_ledger_from_before_accepted_edits_reads_as_it_always_did(conn):
    rows = applied.recorded(conn, VERSION_TABLE)
    assert {r: (row.checksum, row.accepted_at) for r, row in rows.items()} == {
        "r1": (A, ""),
        "r2": (A, ""),
    }
    assert accepted.history(conn, VERSION_TABLE) == ()
    assert ledger.ensure(conn, VERSION_TABLE) is None  # tamper detection as before
    (changed,) = changes(conn, [fact("r1", A), fact("r2", B, ("r1",))])
    assert ledger.describe_change(changed).startswith(f"ran with sha256 {A[:12]}…")


def test_an_accepted_edit_is_expected_from_then_on_and_the_next_edit_is_caught(conn):
    edited = [fact("r1", A), fact("r2", B, ("r1",))]
    (changed,) = changes(conn, edited)
    assert accepted.ensure_log(conn, VERSION_TABLE) is None  # the ledger gains its log in place
    who = accepted.Reviewer("alice", "0123456789abcdef", True)
    (edit,) = accepted.record(
        conn, VERSION_TABLE, [changed], {"r2": "in release 1.0"}, who, "Black reformat"
    )
    assert (edit.old_checksum, edit.new_checksum, edit.released) == (A, B, "in release 1.0")
    assert edit.accepted_at
    assert changes(conn, edited) == ()  # clean without any flag
    assert applied.recorded(conn, VERSION_TABLE)["r1"].accepted_at == ""

    (again,) = changes(conn, [fact("r1", A), fact("r2", C, ("r1",))])  # edited once more
    assert (again.recorded, again.current, again.accepted_at) == (B, C, edit.accepted_at)
    assert ledger.describe_change(again).startswith(
        f"accepted as sha256 {B[:12]}… on {edit.accepted_at}, the file is now {C[:12]}…"
    )
    (kept,) = accepted.history(conn, VERSION_TABLE)
    assert kept == edit
    line = kept.describe()
    assert (
        f"sha256 {A[:12]}… → {B[:12]}…" in line and "by alice, at git commit 0123456789ab" in line
    )
    assert line.endswith(": Black reformat")


def test_a_revision_applied_again_after_its_edit_was_accepted_is_of_the_file_that_ran(
    conn, tmp_path: Path
):
    revision_file = tmp_path / "r2.py"
    revision_file.write_text("# reformatted, then accepted\n")
    accepted_checksum = hashlib.sha256(revision_file.read_bytes()).hexdigest()
    edited = [fact("r1", A), fact("r2", accepted_checksum, ("r1",))]
    accepted.ensure_log(conn, VERSION_TABLE)
    who = accepted.Reviewer("alice", "", None)
    accepted.record(conn, VERSION_TABLE, changes(conn, edited), {"r2": "x"}, who, "ok")
    assert applied.recorded(conn, VERSION_TABLE)["r2"].accepted_at

    # Downgraded and upgraded again: the same file now ran, and the ledger says so.
    book = ledger.Book(VERSION_TABLE, True, {"r2": fact("r2", accepted_checksum)})
    step = SimpleNamespace(revision="r2", path=str(revision_file), is_upgrade=True)
    with conn.transaction():  # a revision's transaction, as Alembic runs it
        book.note(SimpleNamespace(connection=SimpleNamespace(exec_driver_sql=conn.execute)), step)
    row = applied.recorded(conn, VERSION_TABLE)["r2"]
    assert row.checksum == accepted_checksum
    assert row.accepted_at == ""


def test_accepting_twice_keeps_both_edits_oldest_first(conn):
    accepted.ensure_log(conn, VERSION_TABLE)
    who = accepted.Reviewer("bob", "feedc0de", False)
    first = changes(conn, [fact("r1", A), fact("r2", B, ("r1",))])
    accepted.record(conn, VERSION_TABLE, first, {"r2": "x"}, who, "reformat")
    second = changes(conn, [fact("r1", A), fact("r2", C, ("r1",))])
    accepted.record(conn, VERSION_TABLE, second, {"r2": "x"}, who, "comment")
    kept = accepted.history(conn, VERSION_TABLE)
    assert [(e.old_checksum, e.new_checksum, e.reason) for e in kept] == [
        (A, B, "reformat"),
        (B, C, "comment"),
    ]
    assert "the accepted files have uncommitted changes" in kept[0].describe()


def test_reconcile_records_paths_of_any_text_and_drops_stale_rows(conn):
    """The rows travel as one JSON text: quotes, backslashes, a newline, non-ASCII and a JSON
    look-alike come back as written; a row already there is kept, a stale one goes."""
    hostile = 'versions/it\'s "x" \\ \n ünï {"path": 1}.py'
    facts = {
        "r2": fact("r2", B),
        "r3": Revision("r3", ("r2",), path=hostile, checksum=C),
        "r4": fact("r4", C, ("r3",)),
    }
    found = applied.Audit(unrecorded=("r2", "r3", "r4"), stale=("r1",))
    ledger.reconcile(conn, VERSION_TABLE, found, facts)
    rows = applied.recorded(conn, VERSION_TABLE)
    assert sorted(rows) == ["r2", "r3", "r4"]
    assert (rows["r2"].checksum, rows["r2"].path) == (A, "versions/r2.py")  # kept as it was
    assert (rows["r3"].checksum, rows["r3"].path) == (C, hostile)
    assert (rows["r4"].checksum, rows["r4"].path) == (C, "versions/r4.py")

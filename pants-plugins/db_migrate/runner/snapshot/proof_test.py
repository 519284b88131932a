"""The proof that a snapshot is the replay, against a real PostgreSQL: a load of the snapshot
compares equal, and each thing a careless snapshot would lose, planted in the loaded copy, is
named."""

from __future__ import annotations

import uuid

import pytest

from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import ProblemError
from db_migrate.runner.snapshot import capture, load, proof, toc

REPLAY = (
    "CREATE TYPE state AS ENUM ('open', 'closed')",
    "ALTER TYPE state ADD VALUE 'triaged' BEFORE 'closed'",
    "CREATE TYPE urgency AS ENUM ('low', 'high')",
    "ALTER TYPE urgency ADD VALUE 'mid' BEFORE 'high'",
    "CREATE TABLE tickets (id serial PRIMARY KEY, title text, state state DEFAULT 'open',"
    " priority int DEFAULT 3, opened timestamptz DEFAULT now())",
    "INSERT INTO tickets (title) VALUES ('seed one'), ('seed two')",
    "SELECT setval('tickets_id_seq', 41)",
    "CREATE INDEX tickets_open ON tickets (priority) WHERE state <> 'closed'",
    "COMMENT ON TABLE tickets IS 'support tickets'",
    "CREATE FUNCTION trim_title() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN NEW.title := btrim(NEW.title); RETURN NEW; END $$",
    "CREATE TRIGGER tickets_title BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION trim_title()",
    "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('abc123')",
)

# What a careless snapshot would lose, planted in the loaded copy, and how the proof names it.
PLANTED = {
    "a seed row": (("DELETE FROM tickets WHERE title = 'seed two'",), "rows of public.tickets"),
    "a sequence position": (("SELECT setval('tickets_id_seq', 2)",), "public.tickets_id_seq"),
    "a function body": (
        (
            "CREATE OR REPLACE FUNCTION trim_title() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RETURN NEW; END $$",
        ),
        "trim_title",
    ),
    "an enum value order": (
        ("DROP TYPE urgency", "CREATE TYPE urgency AS ENUM ('low', 'high', 'mid')"),
        "urgency",
    ),
    "a comment": (("COMMENT ON TABLE tickets IS NULL",), "comment on table tickets"),
    "a column default": (("ALTER TABLE tickets ALTER COLUMN priority DROP DEFAULT",), "priority"),
    "a trigger": (("DROP TRIGGER tickets_title ON tickets",), "tickets_title"),
    "a partial index": (
        ("DROP INDEX tickets_open", "CREATE INDEX tickets_open ON tickets (priority)"),
        "tickets_open",
    ),
    "the version table": (("UPDATE alembic_version SET version_num = 'zzz'",), "alembic_version"),
}


@pytest.fixture
def replayed(pg_server, pg_database) -> str:
    with pg_server.connect(pg_database) as conn:
        for statement in REPLAY:
            conn.execute(statement)
    return pg_database


def _loaded_copy(pg_server, replayed: str, tmp_path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.dump"
    capture.dump(pg_server.conninfo(replayed), path)
    name = f"loaded_{uuid.uuid4().hex[:10]}"
    pg_server.create_database(name)
    load.restore(DatabaseUrl.parse(pg_server.url(name)), toc.contents(path), 1_000_000)
    return name


def test_the_snapshot_loads_back_equal(pg_server, replayed):
    compared = proof.prove(pg_server, replayed, "alembic_version", "tickets")
    assert compared == "2 tables, 3 rows, 1 sequences, 1 comments"


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_planted_difference_is_named(pg_server, replayed, tmp_path, kind):
    loaded = _loaded_copy(pg_server, replayed, tmp_path)
    statements, named = PLANTED[kind]
    try:
        with pg_server.connect(replayed) as ours, pg_server.connect(loaded) as theirs:
            assert proof.compare(ours, theirs, "alembic_version") == []
            for statement in statements:
                theirs.execute(statement)
            found = proof.compare(ours, theirs, "alembic_version")
        assert found, kind
        assert any(named in line for line in found), (kind, found)
    finally:
        pg_server.drop_database(loaded, force=True)


def test_a_difference_fails_with_the_list(pg_server, replayed):
    problem = proof.snapshot_differs("tickets", ["rows of public.tickets: 2 → 1"])
    text = problem.render()
    assert "The snapshot at head differs from the replay" in text
    assert "rows of public.tickets: 2 → 1" in text
    with pytest.raises(ProblemError):
        raise ProblemError(problem)


def test_verify_says_a_snapshot_too_large_to_load_without_failing(
    pg_server, replayed, tmp_path, monkeypatch
):
    """A history whose rows are more than a message holds is sound: db-verify passes and says
    its snapshot cannot be loaded (db-migrate --from-snapshot refuses it, load_test.py)."""
    from db_migrate.core.contract import RunnerCommand, RunnerPlan, VerifyOptions
    from db_migrate.core.outcome import Outcome
    from db_migrate.runner.commands import verify
    from db_migrate.runner.snapshot import batches

    monkeypatch.setattr(batches, "MESSAGE_BYTES", 100)
    monkeypatch.setattr(batches, "SERVER_MESSAGE_LIMIT", 100)  # below any entry's SQL
    monkeypatch.setattr(verify, "DATABASE", replayed)
    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = migrations\n")
    plan = RunnerPlan(RunnerCommand.VERIFY, "tickets", "src::", str(ini), "DB", "", VerifyOptions())
    outcome = Outcome("tickets", "verify", status="ok", extra={"report": "Verified"})
    verify._prove_snapshot(plan, pg_server, outcome)
    assert outcome.status == "ok"
    assert outcome.extra["snapshot_proof"] is None
    line = outcome.extra["report"].splitlines()[-1]
    assert line.startswith("Snapshot at head: not proven, it cannot be loaded (")
    assert "MB of SQL, more than PostgreSQL takes in one message" in line

"""The snapshot file and its load against a real PostgreSQL: what the table of contents says, the
emptiness check, and a load in one transaction or object by object giving the same database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from testsupport.postgres import pg_dump_text

from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import ProblemError
from db_migrate.runner.snapshot import load
from db_migrate.runner.snapshot.capture import dump

OBJECTS = (
    "CREATE SCHEMA billing",
    "CREATE TABLE billing.invoices (id serial PRIMARY KEY, total int DEFAULT 0)",
    "CREATE INDEX invoices_big ON billing.invoices (total) WHERE total > 100",
    "INSERT INTO billing.invoices (total) VALUES (5), (500)",
    "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('abc123')",
)


def _new_database(pg_server) -> str:
    name = f"snap_{uuid.uuid4().hex[:10]}"
    pg_server.create_database(name)
    return name


@pytest.fixture
def snapshot(pg_server, pg_database, tmp_path) -> Path:
    with pg_server.connect(pg_database) as conn:
        for statement in OBJECTS:
            conn.execute(statement)
    path = tmp_path / "snapshot.dump"
    dump(pg_server.conninfo(pg_database), path)
    return path


def test_contents_name_the_filled_schemas_and_the_locks(snapshot):
    found = load.contents(snapshot)
    assert found.schemas == {"billing", "public"}
    # Two tables, a sequence, two primary keys, an index at least.
    assert found.locks >= 6


@pytest.mark.parametrize("capacity", [1_000_000, 0])
def test_a_load_equals_the_source_in_one_transaction_or_object_by_object(
    pg_server, pg_database, snapshot, capacity
):
    target = _new_database(pg_server)
    url = DatabaseUrl.parse(pg_server.url(target))
    with pg_server.connect(target) as conn:
        assert load.occupied(conn, {"billing"}, "alembic_version") == []
    loaded = load.restore(url, snapshot, load.contents(snapshot).locks, capacity)
    assert loaded.one_transaction is (capacity > 0)
    assert pg_dump_text(pg_server, target) == pg_dump_text(pg_server, pg_database)
    with pg_server.connect(target) as conn:
        assert load.occupied(conn, {"billing"}, "alembic_version") == [
            "billing.invoices",
            "public.alembic_version",
        ]
    pg_server.drop_database(target, force=True)


def test_a_failed_load_in_one_transaction_changes_nothing(pg_server, snapshot):
    target = _new_database(pg_server)
    with pg_server.connect(target) as conn:
        conn.execute("CREATE SCHEMA billing")  # the snapshot's CREATE SCHEMA fails
        conn.execute("CREATE TABLE billing.other (id int)")
    url = DatabaseUrl.parse(pg_server.url(target))
    with pytest.raises(ProblemError) as raised:
        load.restore(url, snapshot, 10, 1_000_000)
    assert raised.value.problem.kind == "snapshot_load_failed"
    assert "as empty as before" in raised.value.problem.render()
    with pg_server.connect(target) as conn:
        assert load.occupied(conn, {"billing"}, "alembic_version") == ["billing.other"]
    pg_server.drop_database(target, force=True)


def test_lock_capacity_is_the_servers_lock_table(pg_server, pg_database):
    with pg_server.connect(pg_database) as conn:
        per = int(conn.execute("SHOW max_locks_per_transaction").fetchone()[0])
        assert load.lock_capacity(conn) >= per

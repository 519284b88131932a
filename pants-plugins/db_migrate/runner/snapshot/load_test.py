"""The snapshot file and its load against a real PostgreSQL: what the table of contents says, the
emptiness check, and a load in one transaction or in several giving the same database, whatever
the dump holds."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from testsupport.postgres import pg_dump_text

from db_migrate.core.contract import toc_file
from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import ProblemError
from db_migrate.runner.postgres.server import THROWAWAY_SETTINGS, pg_bin, throwaway_server
from db_migrate.runner.snapshot import batches, load, toc
from db_migrate.runner.snapshot.capture import dump
from db_migrate.runner.verify import schema

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
    found = toc.contents(snapshot)
    assert found.schemas == {"billing", "public"}
    # Two tables, a sequence, two primary keys, an index at least.
    assert found.locks >= 6
    # Every entry, the rows and the schema included, in the dump's order.
    kinds = [" ".join(entry.line.split()[3:5]) for entry in found.entries]
    assert kinds.index("SCHEMA -") < kinds.index("TABLE billing") < kinds.index("TABLE DATA")
    # The contents are those of the listing captured beside the dump, which a load reads.
    assert [entry.line for entry in found.entries] == _listed(snapshot)
    assert "TABLE DATA billing invoices" in {entry.described for entry in found.entries}


def _listed(snapshot: Path) -> list:
    listing = subprocess.run(
        [str(pg_bin("pg_restore")), "--list", str(snapshot)], capture_output=True, text=True
    )
    return [line for line in listing.stdout.splitlines() if line and not line.startswith(";")]


def test_a_snapshot_without_its_table_of_contents_is_refused_by_name(snapshot):
    Path(toc_file(str(snapshot))).unlink()
    with pytest.raises(ProblemError) as refused:
        toc.contents(snapshot)
    assert refused.value.problem.kind == "snapshot_unreadable"
    assert "its table of contents snapshot.list: No such file" in refused.value.problem.details[0]


@pytest.mark.parametrize("capacity", [1_000_000, 0])
def test_a_load_equals_the_source_in_one_transaction_or_in_several(
    pg_server, pg_database, snapshot, capacity
):
    target = _new_database(pg_server)
    url = DatabaseUrl.parse(pg_server.url(target))
    with pg_server.connect(target) as conn:
        assert load.occupied(conn, {"billing"}, "alembic_version") == []
    inside = toc.contents(snapshot)
    loaded = load.restore(url, inside, capacity)
    # A lock table of 0 plans a transaction for each entry that locks a relation.
    assert loaded.transactions == (1 if capacity else inside.locks)
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
        load.restore(url, toc.contents(snapshot), 1_000_000)
    assert raised.value.problem.kind == "snapshot_load_failed"
    assert 'schema "billing" already exists' in raised.value.problem.render()
    assert "as empty as before" in raised.value.problem.render()
    with pg_server.connect(target) as conn:
        assert load.occupied(conn, {"billing"}, "alembic_version") == ["billing.other"]
    pg_server.drop_database(target, force=True)


def test_lock_capacity_is_the_servers_lock_table(pg_server, pg_database):
    with pg_server.connect(pg_database) as conn:
        per = int(conn.execute("SHOW max_locks_per_transaction").fetchone()[0])
        assert load.lock_capacity(conn) >= per


def test_a_failure_after_committed_transactions_says_the_database_holds_part(pg_server, snapshot):
    target = _new_database(pg_server)
    with pg_server.connect(target) as conn:  # the snapshot's last table fails, billing's went in
        conn.execute("CREATE TABLE alembic_version (other int)")
    url = DatabaseUrl.parse(pg_server.url(target))
    with pytest.raises(ProblemError) as raised:
        load.restore(url, toc.contents(snapshot), 0)
    said = raised.value.problem.render()
    assert 'relation "alembic_version" already exists' in said
    assert "committed before" in said and "drop and recreate it" in said
    with pg_server.connect(target) as conn:
        assert load.occupied(conn, {"billing"}, "alembic_version") == [
            "billing.invoices",
            "public.alembic_version",
        ]
    pg_server.drop_database(target, force=True)


# What a dump may hold that looks like the text around it: psql's frame lines, COPY's, quotes,
# a percent sign, a name with a line break (in the listing `--use-list` reads, too).
HOSTILE = (
    'CREATE TABLE "odd\nname" (id int PRIMARY KEY, body text)',
    """INSERT INTO "odd\nname" VALUES (1, E'one\\n\\\\.\\nCOPY x FROM stdin;\\n\\\\restrict k'),"""
    " (2, 'it''s; -- no comment /* nor this'), (3, '100%s %(name)s'), (4, NULL)",
    """CREATE FUNCTION weird() RETURNS int LANGUAGE plpgsql AS $body$
BEGIN
/*
\\restrict abc
COPY public.t (id) FROM stdin;
\\.
\\unrestrict abc
*/
RETURN 1;
END
$body$""",
    """COMMENT ON TABLE "odd\nname" IS E'\\\\unrestrict k\\n;'""",
)


def test_what_looks_like_psql_or_copy_inside_the_dump_loads_as_it_is(
    pg_server, pg_database, tmp_path
):
    with pg_server.connect(pg_database) as conn:
        for statement in HOSTILE:
            conn.execute(statement)
    path = tmp_path / "hostile.dump"
    dump(pg_server.conninfo(pg_database), path)
    target = _new_database(pg_server)
    loaded = load.restore(DatabaseUrl.parse(pg_server.url(target)), toc.contents(path), 10_000)
    assert loaded.one_transaction
    assert pg_dump_text(pg_server, target) == pg_dump_text(pg_server, pg_database)
    with pg_server.connect(target) as conn:
        assert conn.execute("SELECT weird()").fetchone() == (1,)
        assert conn.execute('SELECT body FROM "odd\nname" WHERE id = 1').fetchone() == (
            "one\n\\.\nCOPY x FROM stdin;\n\\restrict k",
        )
    pg_server.drop_database(target, force=True)


# A lock table far smaller than the one claimed: max_locks_per_transaction's minimum, and few
# backends of any kind to multiply it by.
SMALL_LOCK_TABLE = THROWAWAY_SETTINGS + (
    ("max_locks_per_transaction", "10"),
    ("max_connections", "4"),
    ("superuser_reserved_connections", "0"),
    ("max_worker_processes", "0"),
    ("max_wal_senders", "0"),
    ("autovacuum_worker_slots", "1"),
)


def test_a_server_refusing_one_transaction_gets_the_load_in_halves(
    pg_server, pg_database, tmp_path
):
    with pg_server.connect(pg_database) as conn:
        for i in range(300):
            conn.execute(f"CREATE TABLE t{i} (id serial PRIMARY KEY, v text DEFAULT 'x{i}')")
        conn.execute("INSERT INTO t299 (v) VALUES ('last')")
    path = tmp_path / "many.dump"
    dump(pg_server.conninfo(pg_database), path)
    with throwaway_server(settings=SMALL_LOCK_TABLE) as small:
        small.create_database("target")
        url = DatabaseUrl.parse(small.url("target"))
        # Planned as one transaction; the server runs out of lock space part of the way.
        loaded = load.restore(url, toc.contents(path), 1_000_000)
        assert loaded.transactions > 1
        assert "max_locks_per_transaction" in loaded.retried_because or (
            "out of shared memory" in loaded.retried_because
        )
        # pg_dump (and the proof's row count) would lock every table in one transaction, more
        # than this server holds: the catalog as a whole, the tables one by one.
        with pg_server.connect(pg_database) as ours, small.connect("target") as theirs:
            catalog = [schema.snapshot(_query(c), "alembic_version") for c in (ours, theirs)]
            assert schema.diff(*catalog).render() == []
            for i in range(300):
                for sql in (f"SELECT * FROM t{i}", f"SELECT last_value FROM t{i}_id_seq"):
                    assert ours.execute(sql).fetchall() == theirs.execute(sql).fetchall()
            assert theirs.execute("SELECT v FROM t299").fetchall() == [("last",)]


def _query(conn):
    return lambda text: conn.execute(text).fetchall()


# What pg_restore holds back to the end of a load: an event trigger (it would fire on the rest of
# the load) and a materialized view's data (whose refresh, last of all, it does see).
LAST_OBJECTS = (
    "CREATE TABLE ddl_log (tag text)",
    "CREATE TABLE prices (id int PRIMARY KEY, cents int)",
    "INSERT INTO prices VALUES (1, 250), (2, 990)",
    "CREATE MATERIALIZED VIEW price_total AS SELECT sum(cents) AS cents FROM prices",
    "CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS"
    " $$ BEGIN INSERT INTO public.ddl_log VALUES (tg_tag); END $$",
    "CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl()",
    "CREATE TABLE after_it (id int)",  # logged
)


def test_a_load_cut_into_many_messages_and_transactions_is_what_pg_restore_makes(
    pg_server, pg_database, tmp_path, monkeypatch
):
    with pg_server.connect(pg_database) as conn:
        for statement in LAST_OBJECTS:
            conn.execute(statement)
    path = tmp_path / "last.dump"
    dump(pg_server.conninfo(pg_database), path)
    by_pg_restore, ours = _new_database(pg_server), _new_database(pg_server)
    subprocess.run(
        [str(pg_bin("pg_restore")), "--no-owner", "--single-transaction", "--exit-on-error"]
        + [f"--dbname={pg_server.conninfo(by_pg_restore)}", str(path)],
        check=True,
    )
    monkeypatch.setattr(batches, "PER_MESSAGE", 1)
    loaded = load.restore(DatabaseUrl.parse(pg_server.url(ours)), toc.contents(path), 0)
    assert loaded.transactions > 1
    assert pg_dump_text(pg_server, ours) == pg_dump_text(pg_server, by_pg_restore)
    with pg_server.connect(ours) as conn:
        # The source's row, then the refresh pg_restore runs after the trigger exists.
        assert conn.execute("SELECT tag FROM ddl_log").fetchall() == [
            ("CREATE TABLE",),
            ("REFRESH MATERIALIZED VIEW",),
        ]
        assert conn.execute("SELECT cents FROM price_total").fetchall() == [(1240,)]
    for name in (by_pg_restore, ours):
        pg_server.drop_database(name, force=True)


@pytest.fixture
def big_rows(pg_server, pg_database, tmp_path) -> Path:
    """Three seed tables of about 110 KB of INSERT statements each, in one dump."""
    with pg_server.connect(pg_database) as conn:
        for name in ("a", "b", "c"):
            conn.execute(f"CREATE TABLE seed_{name} (id int PRIMARY KEY, payload text)")
            conn.execute(
                f"INSERT INTO seed_{name} SELECT g, repeat('x', 200) || g"
                " FROM generate_series(1, 500) g"
            )
    path = tmp_path / "big.dump"
    dump(pg_server.conninfo(pg_database), path)
    return path


def test_large_rows_go_in_messages_within_the_byte_budget(
    pg_server, pg_database, big_rows, monkeypatch
):
    """PostgreSQL parses a whole message before it runs any of it (its parse trees several times
    the text) and takes none of 1 GB: seed rows come in messages of bounded size, not all at once.
    """
    monkeypatch.setattr(batches, "MESSAGE_BYTES", 150_000)
    inside = toc.contents(big_rows)
    with batches.Scripts(big_rows) as scripts:
        messages = list(scripts.of(inside.entries))
    assert len(messages) >= 3
    assert max(len(m) for m in messages) <= 150_000
    target = _new_database(pg_server)
    load.restore(DatabaseUrl.parse(pg_server.url(target)), inside, 1_000_000)
    assert pg_dump_text(pg_server, target) == pg_dump_text(pg_server, pg_database)
    pg_server.drop_database(target, force=True)


def test_rows_of_one_table_beyond_a_message_are_refused_before_sending(
    pg_server, big_rows, monkeypatch
):
    """One table's rows are one entry of the dump: more SQL than the server takes in a message
    fails before anything is sent, naming the table, and the database stays empty."""
    monkeypatch.setattr(batches, "MESSAGE_BYTES", 50_000)
    monkeypatch.setattr(batches, "SERVER_MESSAGE_LIMIT", 100_000)
    target = _new_database(pg_server)
    with pytest.raises(ProblemError) as raised:
        load.restore(DatabaseUrl.parse(pg_server.url(target)), toc.contents(big_rows), 1_000_000)
    problem = raised.value.problem
    assert problem.kind == "snapshot_too_large"
    text = problem.render()
    assert "TABLE DATA public seed_a" in text
    assert "as empty as before" in text
    assert "pants db-migrate <component> (without --from-snapshot)" in text
    with pg_server.connect(target) as conn:
        assert load.occupied(conn, {"public"}, "alembic_version") == []
    pg_server.drop_database(target, force=True)

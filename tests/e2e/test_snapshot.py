"""`./pants db-migrate --from-snapshot` against a real PostgreSQL: a fresh database loaded from
the cached snapshot equals the replayed one (schema, seed rows, sequences, version table, checksum
ledger), and everything around it (refusals, dry run, pins, the cache) as users see it.
"""

from __future__ import annotations

import json
import re
import uuid

from e2e.conftest import COMPONENTS, Database, add_revision
from testsupport.postgres import pg_dump_text

from db_migrate.runner.postgres.server import LocalServer

MANAGER = "src/ai/backend/manager::"
URL_ENV = COMPONENTS["manager"][1]
LEDGER = "pants_db_migrate.alembic_version_checksums"
REPLAYED = re.compile(r"^manager: replayed (\d+) revisions? from base", re.M)
TIMESTAMP_TYPES = ("timestamp with time zone", "timestamp without time zone", "date")


def migrate(repo, db, *args):
    return repo.run("db-migrate", *args, MANAGER, env={URL_ENV: db.url})


def schema_dump(db) -> str:
    return pg_dump_text(db.server, db.name, "--schema-only")


def rows(db) -> dict:
    """Every table's rows, sorted, without its timestamp columns (the replay's `now()` values)."""
    found = {}
    for schema, table in db.query(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN"
        " ('pg_catalog', 'information_schema', 'pants_db_migrate') ORDER BY 1, 2"
    ):
        columns = [
            name
            for name, kind in db.query(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                schema,
                table,
            )
            if kind not in TIMESTAMP_TYPES
        ]
        listed = ", ".join(f'"{c}"::text' for c in columns) or "1"
        found[f"{schema}.{table}"] = sorted(
            db.query(f'SELECT {listed} FROM "{schema}"."{table}"'), key=repr
        )
    return found


def sequences(db) -> dict:
    return {
        name: db.query(f"SELECT last_value, is_called FROM {name}")[0]
        for (name,) in db.query(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
        )
    }


def ledger(db) -> list:
    return db.query(f"SELECT revision, checksum, path FROM {LEDGER} ORDER BY 1")


def state(db) -> tuple:
    return (
        schema_dump(db),
        rows(db),
        sequences(db),
        db.versions("alembic_version"),
        ledger(db),
    )


def test_loaded_database_equals_the_replayed_one(repo, new_database, histories):
    replayed, loaded = new_database(), new_database()
    assert migrate(repo, replayed).returncode == 0
    # A seed row and a sequence position the snapshot must carry.
    replayed_rows = rows(replayed)
    assert any(replayed_rows.values()), "the manager's migrations insert seed rows"

    result = migrate(repo, loaded, "--from-snapshot")
    assert result.returncode == 0, result
    assert "✅ Snapshot loaded" in result.stdout
    head = histories["manager"].head
    assert f"Revision: <base> → {head} (head)" in result.stdout
    assert re.search(r"^Loaded in: [\d.]+ m?s \(one transaction\)$", result.stdout, re.M)
    assert "Checksums recorded: 28 revisions" in result.stdout
    assert re.search(r"^Snapshot: (built now by a replay|cached)", result.stdout, re.M)
    assert state(loaded) == state(replayed)
    owners = loaded.query(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
    )
    assert owners == [(loaded.server.superuser,)]

    # Exactly as after a replay: a plain db-migrate has nothing to do.
    again = migrate(repo, loaded)
    assert again.returncode == 0, again
    assert f"manager is up-to-date at {head}" in again.stdout
    status = repo.run("db-status", MANAGER, env={URL_ENV: loaded.url})
    assert status.returncode == 0, status
    assert "applied outside pants" not in status.stdout + status.stderr


# What a careless snapshot would lose: a sequence's position, seed rows, an enum's value order,
# a function's body, a trigger, comments, a column default, a partial index.
RICH_UPGRADE = """
op.execute("CREATE TYPE ticket_state AS ENUM ('open', 'waiting', 'closed', 'archived')")
op.execute("ALTER TYPE ticket_state ADD VALUE 'triaged' BEFORE 'waiting'")
op.execute(
    "CREATE TABLE tickets (id serial PRIMARY KEY, title text NOT NULL,"
    " state ticket_state NOT NULL DEFAULT 'open', priority int DEFAULT 3,"
    " opened timestamptz NOT NULL DEFAULT now())"
)
op.execute("CREATE SEQUENCE ticket_numbers START 1000 INCREMENT 7")
op.execute("SELECT setval('ticket_numbers', 1042, true)")
op.execute("INSERT INTO tickets (title, state) VALUES ('seed one', 'open'), ('seed two', 'closed')")
op.execute("SELECT setval('tickets_id_seq', 41, true)")
op.execute("CREATE INDEX tickets_open ON tickets (priority) WHERE state <> 'closed'")
op.execute("COMMENT ON TABLE tickets IS 'support tickets ({salt})'")
op.execute("COMMENT ON COLUMN tickets.priority IS '1 is urgent'")
op.execute(
    "CREATE FUNCTION tickets_title_trim() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN NEW.title := btrim(NEW.title); RETURN NEW; END $$"
)
op.execute(
    "CREATE TRIGGER tickets_title BEFORE INSERT OR UPDATE ON tickets"
    " FOR EACH ROW EXECUTE FUNCTION tickets_title_trim()"
)
"""
RICH_DOWNGRADE = """
op.execute("DROP TABLE tickets")
op.execute("DROP FUNCTION tickets_title_trim()")
op.execute("DROP SEQUENCE ticket_numbers")
op.execute("DROP TYPE ticket_state")
"""


def test_everything_a_replay_leaves_and_a_second_load_from_the_cache(
    private_repo, new_database, histories
):
    # A salt of its own: this snapshot was never built before, on any earlier run of this test.
    salt = uuid.uuid4().hex
    add_revision(
        private_repo,
        "manager",
        "5e1f0a11c0de",
        histories["manager"].head,
        "Add tickets",
        upgrade=RICH_UPGRADE.replace("{salt}", salt),
        downgrade=RICH_DOWNGRADE,
    )
    replayed, built, cached = new_database(), new_database(), new_database()
    assert migrate(private_repo, replayed).returncode == 0

    first = migrate(private_repo, built, "--from-snapshot")
    assert first.returncode == 0, first
    assert REPLAYED.search(first.stdout), first  # the snapshot process ran: a cold cache
    assert "Completed: Snapshot manager at head" in first.stderr
    assert re.search(
        r"^Snapshot: built now by a replay on a throwaway PostgreSQL", first.stdout, re.M
    )
    assert state(built) == state(replayed)
    assert sequences(built)["public.ticket_numbers"] == (1042, True)
    assert sequences(built)["public.tickets_id_seq"] == (41, True)
    assert rows(built)["public.tickets"] == [
        ("1", "seed one", "open", "3"),
        ("2", "seed two", "closed", "3"),
    ]
    enum = built.query("SELECT enum_range(NULL::ticket_state)::text")
    assert enum == [("{open,triaged,waiting,closed,archived}",)]

    second = migrate(private_repo, cached, "--from-snapshot")
    assert second.returncode == 0, second
    assert re.search(
        r"^Snapshot: cached (locally|in memory by pantsd) \(no replay\)$", second.stdout, re.M
    )
    # No snapshot process ran: no replay printed, no process completed.
    assert not REPLAYED.search(second.stdout)
    assert "Completed: Snapshot manager" not in second.stderr
    assert state(cached) == state(replayed)


def test_a_database_that_is_not_empty_is_refused_untouched(repo, new_database, histories):
    db = new_database()
    ordered = histories["manager"].ordered()
    assert migrate(repo, db, f"--target={ordered[2]}").returncode == 0
    before = state(db)
    result = migrate(repo, db, "--from-snapshot")
    assert result.returncode == 1, result
    assert "❌ Error: The database is not empty: no snapshot loaded" in result.stderr
    assert f"at revision {ordered[2]}" in result.stderr
    assert "Traceback" not in result.stderr
    assert state(db) == before

    stray = new_database()
    stray.query("CREATE TABLE notes (id int)")
    refused = migrate(repo, stray, "--from-snapshot")
    assert refused.returncode == 1, refused
    assert "public.notes" in refused.stderr and "with no version table" in refused.stderr
    assert stray.tables() == {"notes"}


def test_dry_run_says_what_it_would_load_and_changes_nothing(repo, new_database, histories):
    db = new_database()
    result = migrate(repo, db, "--from-snapshot", "--dry-run")
    assert result.returncode == 0, result
    head = histories["manager"].head
    assert f"Would load the snapshot of head ({head})" in result.stdout
    assert "instead of replaying 28 revision(s)" in result.stdout
    assert "Nothing was changed (--dry-run)." in result.stdout
    assert not REPLAYED.search(result.stdout)
    assert db.tables() == set() and db.versions("alembic_version") == ()


def test_release_pin_and_explicit_revision(repo, new_database, histories):
    pinned, explicit = new_database(), new_database()
    result = migrate(repo, pinned, "--from-snapshot", "--target=release:24.09.0")
    assert result.returncode == 0, result
    assert "Revision: <base> → ddc0ecaca3e9 (release:24.09.0)" in result.stdout
    assert pinned.versions("alembic_version") == ("ddc0ecaca3e9",)

    # The same revision by its id is the same snapshot: taken from the cache.
    again = migrate(repo, explicit, "--from-snapshot", "--target=ddc0eca")
    assert again.returncode == 0, again
    assert re.search(r"^Snapshot: cached .*\(no replay\)$", again.stdout, re.M)
    assert state(explicit) == state(pinned)

    # And it can be migrated on from there like a replayed database.
    up = migrate(repo, explicit)
    assert up.returncode == 0, up
    assert explicit.versions("alembic_version") == (histories["manager"].head,)


def test_targets_without_a_snapshot_are_refused(repo, new_database):
    db = new_database()
    for flags in (("--target=+1",), ("--direction=downgrade", "--target=base"), ("--sql",)):
        result = migrate(repo, db, "--from-snapshot", *flags)
        assert result.returncode == 2, (flags, result)
        assert "❌ Error: --from-snapshot does not go with" in result.stderr
    assert db.tables() == set()


def test_the_development_server_flow(repo, histories):
    """No URL variable: the repo's development server, started and its database created on
    demand, as a plain db-migrate does; the dry run says it would start it and starts nothing."""
    if (repo.root / ".dev-postgres" / "data" / "postmaster.pid").exists():
        repo.run("db-dev-server", "--action=stop")
    dry = repo.run("db-migrate", "--from-snapshot", "--dry-run", MANAGER)
    assert dry.returncode == 0, dry
    assert "a real run would start it" in dry.stdout, dry
    assert not (repo.root / ".dev-postgres" / "data" / "postmaster.pid").exists()

    loaded = repo.run("db-migrate", "--from-snapshot", MANAGER)
    assert loaded.returncode == 0, loaded
    assert "✅ Snapshot loaded" in loaded.stdout
    assert "(one transaction)" in loaded.stdout  # no template without the flag
    assert "127.0.0.1" in loaded.stdout and "/backend" in loaded.stdout
    again = repo.run("db-migrate", MANAGER)
    assert again.returncode == 0, again
    assert f"manager is up-to-date at {histories['manager'].head}" in again.stdout


def _on_dev_server(repo, name: str) -> Database:
    """A database name on the repo's development server (whether or not it exists yet)."""
    port = int(re.search(r"dev_server_port = (\d+)", repo.read("pants.toml")).group(1))
    data = repo.root / ".dev-postgres" / "data"
    return Database(LocalServer(data_dir=data, port=port, password="develove"), name)


def _template_of(result) -> tuple:
    """(template, how) from `Loaded in: ... (a clone of template NAME, built now | kept ...)`."""
    found = re.search(
        r"^Loaded in: .*\(a clone of template (\S+), (built now|kept)", result.stdout, re.M
    )
    assert found, result
    return found.group(1), found.group(2)


def test_the_development_servers_new_database_is_a_clone_of_the_snapshots_template(
    repo, new_database, histories
):
    """The ini's database, dropped and loaded again with --snapshot-template: the second load
    copies the template the first built, and equals a replay (rows, sequences, version table,
    ledger)."""
    replayed = new_database()
    assert migrate(repo, replayed).returncode == 0
    assert repo.run("db-dev-server", "--action=start").returncode == 0
    backend = _on_dev_server(repo, "backend")
    clones = []
    for _ in range(2):
        backend.server.drop_database("backend", force=True)
        result = repo.run("db-migrate", "--from-snapshot", "--snapshot-template", MANAGER)
        assert result.returncode == 0, result
        assert "creating database 'backend'" in result.stdout, result
        clones.append(_template_of(result))
    assert clones[1][1] == "kept" and clones[0][0] == clones[1][0]
    assert state(backend) == state(replayed)
    closed = backend.query(
        "SELECT datistemplate, datallowconn FROM pg_database WHERE datname = %s", clones[1][0]
    )
    assert closed == [(True, False)]  # nobody may connect and block the next clone
    status = repo.run("db-dev-server", "--action=status")
    assert status.returncode == 0, status
    assert re.search(rf"^Snapshot templates: 1, [\d.]+ MB \({clones[1][0]} ", status.stdout, re.M)
    report = json.loads(repo.run("db-dev-server", "--output=json").stdout)
    assert [t["name"] for t in report["server"]["snapshot_templates"]] == [clones[1][0]]


def test_snapshot_template_on_another_server_creates_missing_databases_as_clones(
    repo, new_database, pg_server, histories
):
    replayed = new_database()
    assert migrate(repo, replayed).returncode == 0
    suffix = uuid.uuid4().hex[:8]
    first, second, third = (Database(pg_server, f"clone_{n}_{suffix}") for n in "abc")

    refused = migrate(repo, first, "--from-snapshot")  # without the flag: as before
    assert refused.returncode == 1 and f"Database '{first.name}' does not exist" in refused.stderr
    dry = migrate(repo, first, "--from-snapshot", "--snapshot-template", "--dry-run")
    assert dry.returncode == 0, dry
    assert "a real run would create it as a clone of the snapshot's template" in dry.stdout
    assert first.name not in {r[0] for r in replayed.query("SELECT datname FROM pg_database")}

    made = [migrate(repo, db, "--from-snapshot", "--snapshot-template") for db in (first, second)]
    assert [r.returncode for r in made] == [0, 0], made
    assert _template_of(made[1]) == (_template_of(made[0])[0], "kept")
    assert state(first) == state(replayed) and state(second) == state(replayed)

    pg_server.create_database(third.name)  # one that exists is loaded as before, not replaced
    loaded = migrate(repo, third, "--from-snapshot", "--snapshot-template")
    assert loaded.returncode == 0 and "(one transaction)" in loaded.stdout, loaded
    alone = migrate(repo, third, "--snapshot-template")
    assert alone.returncode == 2 and "--snapshot-template goes with --from-snapshot" in alone.stderr
    # Set as configuration (here its environment form), it is no mistake on a plain db-migrate.
    env = {URL_ENV: second.url, "PANTS_DB_MIGRATE_SNAPSHOT_TEMPLATE": "true"}
    up_to_date = repo.run("db-migrate", MANAGER, env=env)
    assert up_to_date.returncode == 0, up_to_date
    assert f"manager is up-to-date at {histories['manager'].head}" in up_to_date.stdout


def test_a_revision_that_fails_builds_no_snapshot_and_touches_nothing(
    private_repo, new_database, histories
):
    add_revision(
        private_repo,
        "manager",
        "badbadbad001",
        histories["manager"].head,
        "Broken",
        upgrade=f'op.execute("ALTER TABLE no_such_table_{uuid.uuid4().hex[:8]} ADD COLUMN x int")',
    )
    db = new_database()
    result = migrate(private_repo, db, "--from-snapshot")
    assert result.returncode == 1, result
    assert "❌ Error: Upgrade of badbadbad001 failed while building the snapshot" in result.stderr
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.tables() == set() and db.versions("alembic_version") == ()

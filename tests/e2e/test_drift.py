"""`./pants db-status --drift` against a real PostgreSQL: the live database against the schema its
scripts give at the revision it records. Read-only, whatever it finds."""

from __future__ import annotations

import json

import psycopg
from e2e.conftest import COMPONENTS, add_revision

from db_migrate.core.applied import lock_key

APPPROXY = "src/ai/backend/appproxy::"
URL_ENV, TABLE = COMPONENTS["appproxy"][1], COMPONENTS["appproxy"][2]
ACCOUNT_URL_ENV = COMPONENTS["accountmgr"][1]


def drift(repo, db, *args, spec=APPPROXY, env=None):
    return repo.run("db-status", "--drift", *args, spec, env={URL_ENV: db.url, **(env or {})})


def migrate(repo, db, *args, spec=APPPROXY, url_env=URL_ENV):
    result = repo.run("db-migrate", *args, spec, env={url_env: db.url})
    assert result.returncode == 0, result
    return result


def report(result) -> dict:
    (component,) = json.loads(result.stdout)["components"]
    return component


def catalog_checksum(db) -> tuple:
    """What any write leaves behind: every catalog row's version, the tables' write counters, and
    what the version table and the checksum ledger hold."""
    (classes,) = db.query(
        "SELECT md5(string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid)) FROM pg_class"
    )[0]
    (attributes,) = db.query(
        "SELECT md5(string_agg(attrelid::text || '.' || attnum || ':' || xmin::text, ','"
        " ORDER BY attrelid, attnum)) FROM pg_attribute"
    )[0]
    writes = db.query(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables ORDER BY 1"
    )
    return classes, attributes, tuple(writes), db.versions(TABLE)


def test_clean_at_head_then_planted_drift_is_named(repo, new_database, histories):
    db = new_database()
    migrate(repo, db)
    head = histories["appproxy"].head

    clean = drift(repo, db, "--check")
    assert clean.returncode == 0, clean
    assert f"Drift: ✅ none: the database matches the scripts at {head} (schema public)" in (
        clean.stdout
    )
    again = drift(repo, db, "--check", "--output=json")
    assert again.returncode == 0, again
    entry = report(again)
    assert entry["drift"]["state"] == "clean" and entry["drift"]["differences"] == []
    assert entry["drift"]["expected_cached"], "the second check replayed again"
    repo.stop_pantsd()  # from the local cache now, not pantsd's memory: still no replay
    restarted = report(drift(repo, db, "--check", "--output=json"))
    assert restarted["drift"]["expected_cached"] == "cached locally", restarted["drift"]

    db.query("ALTER TABLE tokens ADD COLUMN nickname text")
    db.query("ALTER TABLE endpoints ALTER COLUMN health_check_enabled SET DEFAULT true")
    db.query("DROP INDEX ix_tokens_session_id")
    db.query("ALTER TYPE appmode ADD VALUE 'batch'")
    db.query("CREATE TABLE audit_log (id serial PRIMARY KEY, what text)")
    db.query("CREATE FUNCTION stray() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    # Outside the component's schema: not drift (neither is the checksum ledger's schema).
    db.query("CREATE SCHEMA reporting; CREATE TABLE reporting.daily (day date PRIMARY KEY)")
    assert db.query("SELECT to_regnamespace('pants_db_migrate') IS NOT NULL")[0][0]
    before = catalog_checksum(db)

    found = drift(repo, db)
    assert found.returncode == 0, found  # without --check: a report, not a failure
    text = found.stdout
    assert "Drift: ⚠️ 6 differences between" in text, text
    assert "  table tokens:\n    - column nickname: not in the scripts\n" in text
    assert "        scripts:  (none)\n        database: text\n" in text
    assert "    - column health_check_enabled: changed" in text
    assert "        scripts:  boolean NOT NULL DEFAULT false" in text
    assert "        database: boolean NOT NULL DEFAULT true" in text
    assert "    - index ix_tokens_session_id: missing from the database" in text
    assert "  - enum appmode: changed" in text and "'inference', 'batch'" in text
    assert "  - table audit_log: not in the scripts" in text
    assert "database: table (2 columns, 1 constraint, 1 sequence)" in text
    assert "  - function stray(): not in the scripts" in text
    assert "Traceback" not in found.output
    assert catalog_checksum(db) == before, "db-status --drift wrote to the database"

    assert drift(repo, db, "--check").returncode == 1
    entry = report(drift(repo, db, "--check", "--output=json"))
    assert entry["drift"]["state"] == "drift" and entry["drift"]["revisions"] == [head]
    differences = {(d["object"], d["name"]): d for d in entry["drift"]["differences"]}
    assert len(differences) == 6, differences
    assert differences[("column", "nickname")] == {
        "object": "column",
        "table": "tokens",
        "name": "nickname",
        "change": "extra",
        "expected": None,
        "actual": "text",
    }
    assert differences[("index", "ix_tokens_session_id")]["change"] == "missing"
    assert differences[("enum", "appmode")]["change"] == "changed"
    assert catalog_checksum(db) == before


def test_edited_function_and_missing_trigger(private_repo, new_database):
    add_revision(
        private_repo,
        "appproxy",
        "d1f7a0c0ffee",
        _appproxy_head(private_repo),
        "Touch tokens",
        upgrade="""
op.execute("CREATE FUNCTION touch_tokens() RETURNS trigger LANGUAGE plpgsql AS $$"
           " BEGIN NEW.updated_at = now(); RETURN NEW; END $$")
op.execute("CREATE TRIGGER tokens_touch BEFORE UPDATE ON tokens"
           " FOR EACH ROW EXECUTE FUNCTION touch_tokens()")
""",
        downgrade="""
op.execute("DROP TRIGGER tokens_touch ON tokens")
op.execute("DROP FUNCTION touch_tokens()")
""",
    )
    private_repo.settle()
    db = new_database()
    migrate(private_repo, db)
    assert drift(private_repo, db, "--check").returncode == 0
    db.query(
        "CREATE OR REPLACE FUNCTION touch_tokens() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RETURN NEW; END $$"
    )
    db.query("DROP TRIGGER tokens_touch ON tokens")
    found = drift(private_repo, db, "--check")
    assert found.returncode == 1, found
    assert "  - function touch_tokens(): changed" in found.stdout, found.stdout
    assert "    - trigger tokens_touch: missing from the database" in found.stdout
    assert "        scripts:  CREATE TRIGGER tokens_touch BEFORE UPDATE ON tokens" in found.stdout


def _appproxy_head(repo) -> str:
    from e2e.conftest import load_history

    return load_history("appproxy").head


def test_other_components_in_a_shared_database_are_not_drift(repo, new_database):
    db = new_database()
    migrate(repo, db)
    migrate(repo, db, spec="src/ai/backend/accountmgr::", url_env=ACCOUNT_URL_ENV)
    mine = drift(repo, db, "--check")
    assert mine.returncode == 0, mine
    assert "Drift: ✅ none" in mine.stdout
    theirs = repo.run(
        "db-status", "--drift", "--check", "--component=accountmgr", env={ACCOUNT_URL_ENV: db.url}
    )
    assert theirs.returncode == 0, theirs
    assert "Drift: ✅ none" in theirs.stdout


def test_no_version_table_and_unknown_revision_are_said_not_guessed(repo, new_database):
    db = new_database()
    db.query("CREATE TABLE tokens (id int)")
    fresh = drift(repo, db, "--output=json")
    assert fresh.returncode == 0, fresh
    assert "Drift: ⚠️ not compared: the database has no version table" in fresh.stderr
    assert report(fresh)["drift"]["state"] == "no-version-table"
    assert drift(repo, db, "--check").returncode == 1

    db.query("DROP TABLE tokens")
    migrate(repo, db)
    db.query(f"UPDATE {TABLE} SET version_num = 'feedfacecafe'")
    unknown = drift(repo, db)
    assert unknown.returncode == 0, unknown
    assert (
        "Drift: ⚠️ not compared: the database records feedfacecafe, which is not in these"
        " scripts' history: its expected schema is unknown"
    ) in unknown.stdout
    assert drift(repo, db, "--check").returncode == 1


def test_takes_no_migration_lock(repo, new_database):
    """A migration holding the lock does not hold up (or get held up by) a drift check."""
    db = new_database()
    migrate(repo, db)
    with psycopg.connect(db.server.conninfo(db.name), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(TABLE),))
        result = drift(repo, db, "--check")
        assert result.returncode == 0, result
        assert "Drift: ✅ none" in result.stdout


def test_a_history_that_does_not_replay_is_an_error_not_a_guess(private_repo, new_database):
    """The recorded revision's replay fails on an empty database (it needed something only the
    live one had): db-status cannot tell, says why in the specification's format, exits 1."""
    head = _appproxy_head(private_repo)
    add_revision(
        private_repo,
        "appproxy",
        "e2f8b1d1beef",
        head,
        "Needs outside data",
        upgrade='op.execute("INSERT INTO tokens (id) SELECT id FROM outside_data")',
    )
    private_repo.settle()
    db = new_database()
    migrate(private_repo, db, "--target=" + head)
    db.query(f"UPDATE {TABLE} SET version_num = 'e2f8b1d1beef'")
    before = catalog_checksum(db)
    result = drift(private_repo, db)
    assert result.returncode == 1, result
    assert (
        "❌ Error: Cannot replay appproxy's history on a throwaway PostgreSQL at revision"
        " e2f8b1d1beef"
    ) in result.stderr, result.stderr
    assert 'relation "outside_data" does not exist' in result.stderr
    assert "pants db-verify src/ai/backend/appproxy" in result.stderr
    assert "Traceback" not in result.output
    assert catalog_checksum(db) == before

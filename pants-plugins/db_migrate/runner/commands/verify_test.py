"""`db-verify`'s runner against a real PostgreSQL: the catalog snapshot, the round trip of small
generated components (healthy, broken downgrades, models that differ, skips), and the `verify`
command running components as child processes on its own throwaway server."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
from testsupport import postgres as pg_fixtures

from db_migrate.core.contract import RunnerCommand, RunnerPlan, VerifyOptions
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.core.revision_file import Revision
from db_migrate.runner.commands import verify
from db_migrate.runner.postgres.server import LocalServer
from db_migrate.runner.verify import schema
from db_migrate.runner.verify.schema import Key

pg_server = pg_fixtures.pg_server
pg_database = pg_fixtures.pg_database
pg_url = pg_fixtures.pg_url

ENV_PY = """
import importlib.util
import os
import pathlib

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
here = pathlib.Path(__file__).parent
spec = importlib.util.spec_from_file_location(f"models_{{here.name}}", here / "models.py")
models = importlib.util.module_from_spec(spec)
spec.loader.exec_module(models)
url = os.environ.get("{url_env}") or config.get_main_option("sqlalchemy.url")
options = {{
    "target_metadata": models.metadata,
    "version_table": config.get_main_option("version_table"),
    "transaction_per_migration": {per_migration},
    "compare_type": True,
}}
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
status = sa.Enum("active", "inactive", name="userstatus")
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(64), nullable=False, index=True),
    sa.Column("status", status, nullable=False, server_default="active"),
    sa.Column("nickname", sa.String(32)),
)
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("priority >= 0", name="ck_jobs_priority"),
    sa.UniqueConstraint("user_id", "priority", name="uq_jobs_user_priority"),
)
"""

R1 = (
    "aaaa00000001",
    "Create users",
    """
    status = sa.Enum("active", "inactive", name="userstatus")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(64), nullable=False),
        sa.Column("status", status, nullable=False, server_default="active"),
    )
    op.create_index("ix_users_email", "users", ["email"])
    """,
    """
    op.drop_index("ix_users_email", table_name="users")
    op.drop_table("users")
    sa.Enum(name="userstatus").drop(op.get_bind())
    """,
)
R2 = (
    "bbbb00000002",
    "Add nickname",
    """
    op.add_column("users", sa.Column("nickname", sa.String(32)))
    """,
    """
    op.drop_column("users", "nickname")
    """,
)
R3 = (
    "cccc00000003",
    "Create jobs",
    """
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("priority >= 0", name="ck_jobs_priority"),
        sa.UniqueConstraint("user_id", "priority", name="uq_jobs_user_priority"),
    )
    """,
    """
    op.drop_table("jobs")
    """,
)

REVISION = '''"""{message}

Revision ID: {rev}
Revises: {down}
"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down_repr}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


def _body(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code).strip() or "pass", "    ")


# Incremental schema reads, each checked against a full read.
EVERY_STEP = VerifyOptions(check_every_step=True)


def make_component(
    root: Path,
    revisions=(R1, R2, R3),
    *,
    name: str = "mini",
    models: str = MODELS,
    per_migration: bool = True,
    options: VerifyOptions = EVERY_STEP,
) -> RunnerPlan:
    """A component under `root` (ini, env.py, models.py, versions/) and the plan Pants would send."""
    script = root / name
    (script / "versions").mkdir(parents=True)
    url_env = f"{name.upper()}_DB_URL"
    (script / "env.py").write_text(ENV_PY.format(url_env=url_env, per_migration=per_migration))
    (script / "models.py").write_text(models)
    facts, down = [], None
    for rev, message, up, dn in revisions:
        path = script / "versions" / f"{rev}_step.py"
        path.write_text(
            REVISION.format(
                message=message,
                rev=rev,
                down=down or "",
                down_repr=repr(down),
                upgrade=_body(up),
                downgrade=_body(dn),
            )
        )
        facts.append(
            Revision(
                rev,
                (down,) if down else (),
                message=message,
                path=str(path.relative_to(root)),
            )
        )
        down = rev
    ini = root / f"alembic-{name}.ini"
    ini.write_text(
        f"[alembic]\nscript_location = %(here)s/{name}\n"
        "sqlalchemy.url = postgresql+psycopg://nobody@127.0.0.1:9/none\n"
        f"version_table = alembic_version_{name}\n"
    )
    return RunnerPlan(
        command=RunnerCommand.VERIFY,
        component=name,
        selector=f"src/{name}:migrations",
        config=ini.name,
        url_env=url_env,
        buildroot=str(root),
        revisions=tuple(facts),
        heads=(down,) if down else (),
        options=options,
    )


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def verify_one(plan: RunnerPlan, url: str, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    monkeypatch.setenv(plan.url_env, "postgresql+psycopg://planted:wrong@127.0.0.1:9/not-this-one")
    outcome = Outcome(component=plan.component, command=plan.command)
    return verify.verify_on(plan, url, outcome)


def problem_of(plan: RunnerPlan, url: str, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ProblemError) as caught:
        verify_one(plan, url, monkeypatch)
    return caught.value.problem


# -- the snapshot ------------------------------------------------------------------------------


def test_snapshot_reads_every_kind_of_object_and_leaves_the_version_table_out(
    pg_server: LocalServer, pg_database: str
) -> None:
    with pg_server.connect(pg_database) as conn:
        conn.execute(
            """
            CREATE SCHEMA extra;
            CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
            CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
            CREATE TABLE people (
                id serial PRIMARY KEY,
                code int GENERATED ALWAYS AS IDENTITY,
                name text NOT NULL DEFAULT 'x' COLLATE "C",
                mood mood,
                twice int GENERATED ALWAYS AS (id * 2) STORED,
                CONSTRAINT uq_people_name UNIQUE (name),
                CONSTRAINT ck_people_name CHECK (name <> '')
            );
            CREATE TABLE extra.pets (id int PRIMARY KEY, owner int REFERENCES people (id) ON DELETE CASCADE);
            CREATE INDEX ix_pets_owner ON extra.pets (owner) WHERE owner > 0;
            CREATE VIEW grown_ups AS SELECT id, name FROM people WHERE id > 10;
            CREATE SEQUENCE tickets START 100 INCREMENT 5;
            CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch();
            """
        )
        found = schema.snapshot(lambda sql: conn.execute(sql).fetchall(), "alembic_version")
    objects = found.objects
    assert not any("alembic_version" in (k.name, k.parent) for k in objects)
    assert objects[Key("schema", "", "extra")] == ""
    assert objects[Key("enum", "", "mood")] == "'sad', 'ok', 'happy'"
    assert objects[Key("table", "", "people")] == "table"
    assert objects[Key("table", "", "extra.pets")] == "table"
    assert objects[Key("table", "", "grown_ups")].startswith("view: SELECT")
    assert (
        objects[Key("column", "people", "id")]
        == "integer NOT NULL DEFAULT nextval('people_id_seq'::regclass)"
    )
    assert (
        objects[Key("column", "people", "code")] == "integer NOT NULL GENERATED ALWAYS AS IDENTITY"
    )
    assert (
        objects[Key("column", "people", "name")] == "text COLLATE \"C\" NOT NULL DEFAULT 'x'::text"
    )
    assert objects[Key("column", "people", "mood")] == "mood"
    assert objects[Key("column", "people", "twice")] == "integer GENERATED ALWAYS AS ((id * 2))"
    assert objects[Key("constraint", "people", "people_pkey")] == "PRIMARY KEY (id)"
    assert objects[Key("constraint", "people", "uq_people_name")] == "UNIQUE (name)"
    assert objects[Key("constraint", "people", "ck_people_name")] == "CHECK (name <> ''::text)"
    assert objects[Key("constraint", "extra.pets", "pets_owner_fkey")] == (
        "FOREIGN KEY (owner) REFERENCES people(id) ON DELETE CASCADE"
    )
    assert objects[Key("index", "extra.pets", "extra.ix_pets_owner")] == (
        "CREATE INDEX ix_pets_owner ON extra.pets USING btree (owner) WHERE (owner > 0)"
    )
    # Indexes behind constraints are the constraints; identity sequences are the column.
    assert Key("index", "people", "people_pkey") not in objects
    assert not any(k.kind == "sequence" and "code" in k.name for k in objects)
    assert objects[Key("sequence", "people", "people_id_seq")].endswith("OWNED BY people.id")
    assert objects[Key("sequence", "", "tickets")].startswith("bigint START 100 INCREMENT 5")
    assert objects[Key("trigger", "people", "people_touch")].startswith(
        "CREATE TRIGGER people_touch BEFORE UPDATE"
    )
    assert objects[Key("function", "", "touch()")].startswith("returns trigger plpgsql body ")


def test_snapshot_sees_changes_a_careless_downgrade_leaves(
    pg_server: LocalServer, pg_database: str
) -> None:
    with pg_server.connect(pg_database) as conn:
        query = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
        conn.execute("CREATE TYPE s AS ENUM ('a'); CREATE TABLE t (a int NOT NULL DEFAULT 1, b s)")
        before = schema.snapshot(query)
        conn.execute("ALTER TABLE t ALTER a DROP NOT NULL; ALTER TYPE s ADD VALUE 'b'")
        after = schema.snapshot(query)
    difference = schema.diff(before, after)
    assert difference.changed == {
        Key("column", "t", "a"): ("integer NOT NULL DEFAULT 1", "integer DEFAULT 1"),
        Key("enum", "", "s"): ("'a'", "'a', 'b'"),
    }


# DDL that changes objects other than the ones it names: renames show up in foreign keys, column
# types and defaults elsewhere; CASCADE drops dependents.
TRACKED_DDL = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok')",
    "CREATE TABLE people (id serial PRIMARY KEY, mood mood, name text UNIQUE)",
    "CREATE TABLE pets (id int PRIMARY KEY, owner int REFERENCES people (id))",
    "CREATE INDEX ix_pets_owner ON pets (owner)",
    "ALTER TABLE people RENAME TO persons",
    "ALTER TYPE mood RENAME TO feeling",
    "ALTER TYPE feeling ADD VALUE 'happy'",
    "ALTER SEQUENCE people_id_seq RENAME TO persons_id_seq",
    "ALTER TABLE pets ALTER COLUMN owner TYPE bigint",
    "ALTER INDEX ix_pets_owner RENAME TO ix_pets_owner2",
    "CREATE VIEW grown_ups AS SELECT id, name FROM persons",
    "ALTER TABLE persons RENAME COLUMN name TO full_name",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "CREATE TRIGGER persons_touch BEFORE UPDATE ON persons FOR EACH ROW EXECUTE FUNCTION touch()",
    "CREATE SEQUENCE tickets",
    "ALTER SEQUENCE tickets OWNED BY pets.id",
    "CREATE SCHEMA extra",
    "ALTER TABLE pets SET SCHEMA extra",
    "INSERT INTO persons (full_name) VALUES ('x')",
    "ALTER TABLE persons ADD CONSTRAINT ck_name CHECK (full_name <> '')",
    "DROP TABLE persons CASCADE",
    "DROP FUNCTION touch()",
    "DROP SCHEMA extra CASCADE",
    "DROP TYPE feeling",
]


def test_the_tracker_follows_every_change_and_reads_only_what_changed(
    pg_server, pg_database
) -> None:
    with pg_server.connect(pg_database) as conn:

        def query(sql: str) -> list:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

        tracker = schema.Tracker("alembic_version")
        tracker.install(conn.execute)
        assert tracker.reset(query) == schema.EMPTY
        previous = tracker.schema
        for ddl in TRACKED_DDL:
            conn.execute(ddl)
            tracked = tracker.refresh(query)
            full = schema.snapshot(query, "alembic_version")
            assert tracked.objects == full.objects, (ddl, schema.diff(full, tracked).render())
            assert tracker.last_change == schema.delta(previous, full), ddl
            previous = full
        assert tracker.schema == schema.EMPTY
        tracker.uninstall(conn.execute)
        assert query("SELECT 1 FROM pg_namespace WHERE nspname = 'pants_db_verify'") == []
        assert query("SELECT 1 FROM pg_event_trigger") == []


def test_a_missed_change_falls_back_to_full_snapshots(in_tmp, pg_url, monkeypatch, capsys) -> None:
    plan = make_component(in_tmp, options=VerifyOptions())
    real_refresh = schema.Tracker.refresh

    def forgetful(self, query):
        tracked = real_refresh(self, query)
        if self.last_change:  # lose one change: what a tracker bug would look like
            key = sorted(self.last_change)[0]
            self._objects.pop(key, None)
            for keys in self._owner_keys.values():
                keys.discard(key)
            self.schema = schema.Schema(dict(self._objects))
        return self.schema if self.last_change else tracked

    monkeypatch.setattr(schema.Tracker, "refresh", forgetful)
    outcome = verify_one(plan, pg_url, monkeypatch)
    assert outcome.status == "verified"
    assert outcome.extra["snapshots"] == "full (fallback)"
    assert "verifying again with full snapshots" in capsys.readouterr().out


# -- one component -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "per_migration", [True, False], ids=["commit-per-revision", "one-transaction"]
)
def test_a_healthy_history_verifies(in_tmp, pg_url, monkeypatch, per_migration: bool) -> None:
    plan = make_component(in_tmp, per_migration=per_migration)
    outcome = verify_one(plan, pg_url, monkeypatch)
    assert outcome.status == "verified"
    assert outcome.extra["revisions"] == 3 and outcome.extra["reverted"] == 3
    assert outcome.extra["snapshots"] == "incremental"
    text = outcome.extra["report"]
    assert text.startswith(
        "✅ Verification successful\n\nComponent: mini\nRevisions: 3 (<base> → cccc00000003)"
    )
    assert "schema restored after 3 of 3 downgrades" in text
    assert "Models match the schema at head (Alembic autogenerate): no differences" in text
    assert "Skipped:\n  - nothing" in text


def test_a_downgrade_that_leaves_a_column_behind_is_named(in_tmp, pg_url, monkeypatch) -> None:
    broken = (R2[0], R2[1], R2[2], "pass")
    plan = make_component(in_tmp, (R1, broken, R3))
    problem = problem_of(plan, pg_url, monkeypatch)
    assert problem.kind == "downgrade_mismatch"
    assert problem.title == "Downgrade of bbbb00000002 does not restore the schema"
    text = problem.render()
    assert "mini/versions/bbbb00000002_step.py" in text
    assert "Left behind (the upgrade created or changed it; the downgrade did not undo it):" in text
    assert "+ column users.nickname: character varying(32)" in text
    assert "Verified before it: 3 upgrades, 1 downgrade" in text
    assert 'add "bbbb00000002" to verify_skip' in text


def test_a_downgrade_that_drops_too_much_and_leaves_an_enum_label(
    in_tmp, pg_url, monkeypatch
) -> None:
    r2 = (
        R2[0],
        R2[1],
        R2[2] + "\nop.execute(\"ALTER TYPE userstatus ADD VALUE 'banned'\")",
        R2[3] + "\nop.drop_index('ix_users_email', table_name='users')",
    )
    plan = make_component(in_tmp, (R1, r2, R3))
    text = problem_of(plan, pg_url, monkeypatch).render()
    assert "Removed (it existed before the upgrade; the downgrade dropped it):" in text
    assert "- index ix_users_email: on users (email)" in text
    assert "~ enum userstatus: ('active', 'inactive') → ('active', 'inactive', 'banned')" in text


def test_a_revision_the_models_lack_is_named(in_tmp, pg_url, monkeypatch) -> None:
    r4 = (
        "dddd00000004",
        "Index nicknames",
        "op.create_index('ix_users_nickname', 'users', ['nickname'])",
        "op.drop_index('ix_users_nickname', table_name='users')",
    )
    plan = make_component(in_tmp, (R1, R2, R3, r4))
    problem = problem_of(plan, pg_url, monkeypatch)
    assert problem.kind == "models_differ"
    assert problem.title == "Models differ from the migrated schema (dddd00000004)"
    text = problem.render()
    assert "First revision involved: dddd00000004 (Index nicknames)" in text
    assert (
        "index ix_users_nickname on users (nickname): only in the database (last changed by dddd00000004)"
        in text
    )


def test_models_ahead_of_the_revisions_are_caught(in_tmp, pg_url, monkeypatch) -> None:
    models = MODELS.replace(
        'sa.Column("nickname", sa.String(32)),',
        'sa.Column("nickname", sa.String(32)),\n    sa.Column("age", sa.Integer),',
    )
    text = problem_of(make_component(in_tmp, models=models), pg_url, monkeypatch).render()
    assert "Models differ from the migrated schema (cccc00000003)" in text
    assert (
        "No revision creates what the models add: the history ends at cccc00000003 (Create jobs)"
        in text
    )
    assert "column users.age (INTEGER): only in the models" in text


def test_a_model_type_change_names_the_revision_that_made_the_column(
    in_tmp, pg_url, monkeypatch
) -> None:
    models = MODELS.replace(
        "sa.String(64), nullable=False, index=True", "sa.Text, nullable=False, index=True"
    )
    text = problem_of(make_component(in_tmp, models=models), pg_url, monkeypatch).render()
    assert "Models differ from the migrated schema (aaaa00000001)" in text
    assert (
        "First revision involved: aaaa00000001 (Create users), mini/versions/aaaa00000001_step.py"
        in text
    )
    assert (
        "column users.email: type VARCHAR(64) in the database, TEXT in the models (last changed by aaaa00000001)"
        in text
    )


def test_verify_skip_and_min_revision_are_reported(in_tmp, pg_url, monkeypatch) -> None:
    broken = (R2[0], R2[1], R2[2], "pass")
    r4 = ("dddd00000004", "Noop", "pass", "pass")
    plan = make_component(
        in_tmp,
        (R1, broken, R3, r4),
        options=VerifyOptions(skip=("bbbb00000002", "dddd00000004"), check_every_step=True),
    )
    outcome = verify_one(plan, pg_url, monkeypatch)
    text = outcome.extra["report"]
    assert "schema restored after 2 of 4 downgrades" in text
    assert (
        "bbbb00000002 (Add nickname): downgrade not compared (verify_skip); it leaves + column users.nickname"
        in text
    )
    assert (
        "dddd00000004 (Noop): downgrade not compared (verify_skip); it restores the schema anyway"
        in text
    )

    plan = make_component(
        in_tmp / "again",
        (R1, broken, R3),
        options=VerifyOptions(min_revision="bbbb00000002", check_every_step=True),
    )
    monkeypatch.chdir(in_tmp / "again")
    with pg_url_fresh(monkeypatch) as url:
        outcome = verify_one(plan, url, monkeypatch)
    text = outcome.extra["report"]
    assert (
        "Downgrade one revision at a time to bbbb00000002: schema restored after 1 of 1 downgrade"
        in text
    )
    assert (
        "Not downgraded: bbbb00000002 and 1 revision before it (verify_min_revision = bbbb00000002)"
        in text
    )


class pg_url_fresh:
    """A second fresh database in one test (the pg_database fixture gives one)."""

    server: LocalServer | None = None

    def __init__(self, monkeypatch) -> None:
        self.name = f"fresh_{os.getpid()}_{id(self)}"

    def __enter__(self) -> str:
        assert pg_url_fresh.server is not None
        pg_url_fresh.server.create_database(self.name)
        return pg_url_fresh.server.url(self.name)

    def __exit__(self, *exc) -> None:
        pg_url_fresh.server.drop_database(self.name, force=True)


@pytest.fixture(autouse=True)
def _fresh_server(pg_server: LocalServer):
    pg_url_fresh.server = pg_server
    yield


def test_a_failing_downgrade_suggests_verify_min_revision(in_tmp, pg_url, monkeypatch) -> None:
    irreversible = (R2[0], R2[1], R2[2], "raise NotImplementedError('one way only')")
    plan = make_component(in_tmp, (R1, irreversible, R3))
    problem = problem_of(plan, pg_url, monkeypatch)
    assert problem.title == "Downgrade of bbbb00000002 failed"
    text = problem.render()
    assert "Database said: one way only" in text
    assert 'verify_min_revision="bbbb00000002"' in text


def test_a_failing_upgrade_is_named(in_tmp, pg_url, monkeypatch) -> None:
    bad = (R3[0], R3[1], "op.execute('ALTER TABLE nowhere ADD COLUMN x int')", R3[3])
    problem = problem_of(make_component(in_tmp, (R1, R2, bad)), pg_url, monkeypatch)
    assert problem.title == "Upgrade of cccc00000003 failed"
    assert "while upgrading from an empty database" in problem.render()
    assert 'relation "nowhere" does not exist' in problem.render()


def test_a_broken_env_py_is_not_blamed_on_a_revision(in_tmp, pg_url, monkeypatch) -> None:
    plan = make_component(in_tmp)
    (in_tmp / "mini" / "models.py").write_text("raise ImportError('no models here')\n")
    problem = problem_of(plan, pg_url, monkeypatch)
    assert problem.kind == "env_failed"
    assert "ImportError: no models here" in problem.render()


# -- the `verify` command: its own server, inside its directory -----------------------------------


def test_verify_starts_its_own_server_in_its_directory_and_prints_the_report(
    tmp_path, monkeypatch, capsys
) -> None:
    root = Path(f"/tmp/vt-{os.getpid()}")  # short: the server's socket lives in here
    root.mkdir()
    try:
        monkeypatch.chdir(root)
        plan = make_component(root)
        monkeypatch.setenv(plan.url_env, "postgresql+psycopg://planted:wrong@127.0.0.1:9/nowhere")
        outcome = Outcome(component=plan.component, command=plan.command)
        verify.run(plan, dict(os.environ), outcome)
        out, err = capsys.readouterr()
        assert outcome.status == "verified", err
        assert "mini: throwaway PostgreSQL" in out
        assert "mini:   ↑ cccc00000003 applied" in out
        assert out.rstrip().endswith(outcome.extra["report"])
        assert str(root) not in out + err  # nothing printed names the directory it ran in
        # Nothing left behind: no server, no data directory, no socket.
        assert sorted(p.name for p in root.iterdir()) == sorted(["mini", "alembic-mini.ini"])
    finally:
        shutil.rmtree(root)


def test_a_skip_from_the_command_line_is_reported_as_such(in_tmp, pg_url, monkeypatch) -> None:
    r4 = ("dddd00000004", "Noop", "pass", "pass")
    plan = make_component(
        in_tmp,
        (R1, R2, R3, r4),
        options=VerifyOptions(
            skip=("cccc00000003",), cli_skip=("dddd00000004",), check_every_step=True
        ),
    )
    text = verify_one(plan, pg_url, monkeypatch).extra["report"]
    assert (
        "cccc00000003 (Create jobs): downgrade not compared (verify_skip); it restores the schema anyway, so verify_skip can go"
        in text
    )
    assert (
        "dddd00000004 (Noop): downgrade not compared (--skip); it restores the schema anyway, so --skip is not needed"
        in text
    )
    assert "verify_skip can go" not in text.split("dddd00000004")[-1]

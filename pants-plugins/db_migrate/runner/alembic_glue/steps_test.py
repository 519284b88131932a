from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
import pytest
from testsupport import postgres as pgtesting

from db_migrate.core.database_url import DatabaseUrl, UrlSource
from db_migrate.runner.alembic_glue.env_watch import HandOver
from db_migrate.runner.alembic_glue.steps import AlembicSession, StepFailed

# The real-PostgreSQL fixtures (see runner/postgres/server_test.py for why they are bound here).
pg_server = pgtesting.pg_server
pg_database = pgtesting.pg_database
pg_url = pgtesting.pg_url

ENV_PY = """
from alembic import context

context.configure(
    connection=context.config.attributes["connection"],
    version_table="alembic_version_mini",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
"""

REVISION = '''"""{rev}"""
from alembic import op

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


def session_for(root: Path, url: str, revisions) -> AlembicSession:
    """A component in `root` whose revisions run `revisions` (id, upgrade body) in order."""
    script = root / "mini"
    (script / "versions").mkdir(parents=True)
    (script / "env.py").write_text(ENV_PY)
    down = None
    for rev, body in revisions:
        text = REVISION.format(rev=rev, down=down, body=textwrap.indent(body.strip(), "    "))
        (script / "versions" / f"{rev}_step.py").write_text(text)
        down = rev
    ini = root / "alembic-mini.ini"
    ini.write_text(
        "[alembic]\nscript_location = %(here)s/mini\nversion_table = alembic_version_mini\n"
    )
    source = UrlSource(DatabaseUrl.parse(url), True, "MINI_DB_URL")
    hand_over = HandOver(
        source, "", "mini", "src/mini:migrations", str(ini), "alembic_version_mini"
    )
    return AlembicSession(str(ini), hand_over)


def run(session: AlembicSession, seen: list):
    return session.run(
        "upgrade", "head", lambda step: seen.append(session.migration_pid), lambda done: None
    )


def test_the_session_env_py_runs_on_is_known_while_it_runs(tmp_path, pg_url, monkeypatch):
    monkeypatch.chdir(tmp_path)
    record = 'op.execute("CREATE TABLE ran_on AS SELECT pg_backend_pid() AS pid")'
    session = session_for(tmp_path, pg_url, [("r1", record)])
    seen: list = []
    run(session, seen)
    with psycopg.connect(DatabaseUrl.parse(pg_url).conninfo(), autocommit=True) as conn:
        (ran_on,) = conn.execute("SELECT pid FROM ran_on").fetchone()
    assert seen == [ran_on]
    assert session.migration_pid is None  # the session is gone once the run ends


def test_a_revision_that_failed_inside_its_transaction_left_nothing(tmp_path, pg_url, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = 'op.execute("CREATE TABLE inside (id int)")\nop.execute("SELECT 1/0")'
    session = session_for(tmp_path, pg_url, [("r1", "pass"), ("r2", body)])
    with pytest.raises(StepFailed) as failed:
        run(session, [])
    assert failed.value.step.revision == "r2" and not failed.value.autocommitted
    assert [d.step.revision for d in failed.value.done] == ["r1"]


def test_a_revision_that_left_its_transaction_is_told_apart(tmp_path, pg_url, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = """
with op.get_context().autocommit_block():
    op.execute("CREATE TABLE outside (id int)")
op.execute("SELECT 1/0")
"""
    session = session_for(tmp_path, pg_url, [("r1", "pass"), ("r2", body)])
    with pytest.raises(StepFailed) as failed:
        run(session, [])
    assert failed.value.step.revision == "r2" and failed.value.autocommitted
    with psycopg.connect(DatabaseUrl.parse(pg_url).conninfo(), autocommit=True) as conn:
        stays = conn.execute("SELECT to_regclass('outside') IS NOT NULL").fetchone()[0]
    assert stays  # what ran outside the transaction was not rolled back with it

"""Every component's history against a real PostgreSQL: round trips, single steps, models vs. head."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from migrations.components import COMPONENTS, MANAGER, Catalog, Component

from db_migrate.runner.postgres.server import LocalServer

pytestmark = pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)


@pytest.fixture
def catalog(pg_server: LocalServer, pg_database: str) -> Iterator[Catalog]:
    with pg_server.connect(pg_database) as conn:
        yield Catalog(conn)


@pytest.fixture(autouse=True)
def database_url(component: Component, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the component's env.py at this test's fresh database."""
    monkeypatch.setenv(component.url_env_var, pg_url)
    return pg_url


def _parents(script: ScriptDirectory, revision: str) -> tuple[str, ...]:
    down = script.get_revision(revision).down_revision
    if down is None:
        return ()
    return down if isinstance(down, tuple) else (down,)


def _heads_of(script: ScriptDirectory, applied: set[str]) -> set[str]:
    """The revisions Alembic's version table holds when exactly `applied` are applied."""
    parents = {parent for revision in applied for parent in _parents(script, revision)}
    return applied - parents


def assert_at_head(component: Component, catalog: Catalog) -> None:
    assert catalog.versions(component.version_table) == {component.head()}
    assert catalog.tables() == component.model_tables() | {component.version_table}
    assert catalog.enums() == component.model_enums()
    missing = component.model_indexes() - catalog.indexes()
    assert not missing, f"indexes the models declare but the database lacks: {missing}"


def assert_at_base(component: Component, catalog: Catalog) -> None:
    assert catalog.versions(component.version_table) == set()
    assert catalog.tables() == {component.version_table}
    assert catalog.enums() == set()


def test_history_has_a_single_head(component: Component) -> None:
    script = component.script()
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
    if component is MANAGER:
        revisions = list(script.walk_revisions())
        assert any(rev.is_merge_point for rev in revisions)
        assert any(rev.is_branch_point for rev in revisions)


def test_upgrade_downgrade_round_trip(component: Component, catalog: Catalog) -> None:
    config = component.config()
    command.upgrade(config, "head")
    assert_at_head(component, catalog)
    command.downgrade(config, "base")
    assert_at_base(component, catalog)
    command.upgrade(config, "head")
    assert_at_head(component, catalog)


def test_every_revision_steps_up_and_down(component: Component, catalog: Catalog) -> None:
    config = component.config()
    script = component.script()
    order = component.revisions_base_to_head()
    applied: set[str] = set()
    for revision in order:
        command.upgrade(config, revision)
        applied.add(revision)
        assert catalog.versions(component.version_table) == _heads_of(script, applied), revision
    assert_at_head(component, catalog)
    for revision in reversed(order):
        parents = _parents(script, revision)
        if len(parents) > 1:
            # Down from a merge point to one of its parents removes just the merge.
            command.downgrade(config, parents[0])
        else:
            # `<rev>@-1`: one step down on the branch holding <rev>; the other branch stays.
            command.downgrade(config, f"{revision}@-1")
        applied.remove(revision)
        assert catalog.versions(component.version_table) == _heads_of(script, applied), revision
    assert_at_base(component, catalog)


def test_models_match_the_schema_at_head(component: Component, database_url: str) -> None:
    command.upgrade(component.config(), "head")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "target_metadata": component.metadata,
                    "version_table": component.version_table,
                    "compare_type": True,
                    "compare_server_default": False,
                },
            )
            assert compare_metadata(context, component.metadata) == []
    finally:
        engine.dispose()


def test_env_uses_a_connection_handed_over(
    component: Component, database_url: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A URL that cannot work: the handed-over connection must win over it.
    monkeypatch.setenv(component.url_env_var, "postgresql+psycopg://nobody:wrong@127.0.0.1:1/none")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            command.upgrade(component.config(connection=conn), "head")
            conn.commit()
    finally:
        engine.dispose()
    assert catalog.versions(component.version_table) == {component.head()}


def test_offline_mode_prints_the_sql(component: Component, catalog: Catalog) -> None:
    config = component.config()
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    assert "CREATE TABLE" in sql
    assert f"INSERT INTO {component.version_table}" in sql
    assert catalog.tables() == set()  # nothing ran

"""Snapshot templates against a real PostgreSQL: a clone equals a load, the template is closed and
complete or absent, a failed build leaves nothing, and old or abandoned templates go."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from testsupport.postgres import pg_dump_text

from db_migrate.core.contract import toc_file
from db_migrate.core.database_url import DatabaseUrl, UrlSource
from db_migrate.core.report import ProblemError
from db_migrate.runner.snapshot import load, templates, toc
from db_migrate.runner.snapshot.capture import dump

SEED = (
    "CREATE TABLE invoices (id serial PRIMARY KEY, total int DEFAULT 0)",
    "INSERT INTO invoices (total) VALUES (5), (500)",
    "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('abc123')",
)


def _dump_of(pg_server, tmp_path: Path, *statements: str) -> Path:
    source = _name("src")
    pg_server.create_database(source)
    with pg_server.connect(source) as conn:
        for statement in statements:
            conn.execute(statement)
    path = tmp_path / f"{source}.dump"
    dump(pg_server.conninfo(source), path)
    return path


def _name(kind: str) -> str:
    return f"{kind}_{uuid.uuid4().hex[:10]}"


def _clone(pg_server, component: str, snapshot: Path, target: str):
    url = DatabaseUrl.parse(pg_server.url(target))
    return templates.create_as_clone(url, component, snapshot)


def _server(pg_server) -> templates.Server:
    return templates.Server(DatabaseUrl.parse(pg_server.url()))


def _templates_of(pg_server, component: str) -> list:
    with _server(pg_server) as server:
        return templates.templates_of(server, component)


def _flags(pg_server, name: str):
    with pg_server.connect() as conn:
        return conn.execute(
            "SELECT datistemplate, datallowconn FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()


def test_the_first_clone_builds_the_template_and_the_second_only_copies_it(pg_server, tmp_path):
    component = _name("billing")
    snapshot = _dump_of(pg_server, tmp_path, *SEED)
    loaded_db = _name("loaded")
    pg_server.create_database(loaded_db)
    load.restore(DatabaseUrl.parse(pg_server.url(loaded_db)), toc.contents(snapshot), 10_000)

    first, second = _name("first"), _name("second")
    built = _clone(pg_server, component, snapshot, first)
    assert built is not None and built.built is not None and built.built.one_transaction
    kept = _clone(pg_server, component, snapshot, second)
    assert kept is not None and kept.built is None and kept.template == built.template

    # Rows, the sequence's position and the version table: as a pg_restore leaves them.
    assert pg_dump_text(pg_server, first) == pg_dump_text(pg_server, loaded_db)
    assert pg_dump_text(pg_server, second) == pg_dump_text(pg_server, loaded_db)
    assert _flags(pg_server, built.template) == (True, False)  # nobody may connect and block it
    assert _templates_of(pg_server, component) == [built.template]


def test_an_existing_database_is_not_cloned_into(pg_server, tmp_path):
    component = _name("billing")
    snapshot = _dump_of(pg_server, tmp_path, *SEED)
    existing = _name("existing")
    pg_server.create_database(existing)
    assert _clone(pg_server, component, snapshot, existing) is None
    assert _templates_of(pg_server, component) == []  # nothing built for it either
    with pg_server.connect(existing) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)


def test_a_failed_build_leaves_no_template_no_half_built_copy_and_no_database(pg_server, tmp_path):
    component = _name("billing")
    broken = tmp_path / "broken.dump"
    good = _dump_of(pg_server, tmp_path, *SEED)
    # The dump cut in half, its listing whole: pg_restore fails part-way through (the one
    # transaction rolls back).
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    Path(toc_file(str(broken))).write_text(Path(toc_file(str(good))).read_text())
    target = _name("target")
    with pytest.raises(ProblemError):
        templates.create_as_clone(DatabaseUrl.parse(pg_server.url(target)), component, broken)
    with pg_server.connect() as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s OR datname = %s",
            (templates.component_prefix(component) + "%", target),
        ).fetchall()
    assert left == []


def test_two_runs_building_the_same_template_end_with_one(pg_server, tmp_path):
    component = _name("billing")
    snapshot = _dump_of(pg_server, tmp_path, *SEED)
    first = _clone(pg_server, component, snapshot, _name("first"))
    assert first is not None
    # The other run's build finishes after this one's rename: its copy is dropped, its load done.
    with _server(pg_server) as server:
        loaded = templates._build(server, first.template, snapshot)
    assert loaded.one_transaction
    with pg_server.connect() as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (templates.component_prefix(component) + "%",),
            )
        ]
    assert names == [first.template]


def test_older_templates_and_abandoned_builds_are_dropped_others_kept(pg_server, tmp_path):
    component, other = _name("billing"), _name("orders")
    mine = templates.component_prefix(component)
    abandoned, running = f"{mine}{'0' * 16}_{_dead_pid()}", f"{mine}{'1' * 16}_1"
    for name in (abandoned, running):
        pg_server.create_database(name)
    theirs = _clone(pg_server, other, _dump_of(pg_server, tmp_path, *SEED), _name("t"))
    made = []
    for total in (1, 2, 3):
        seeded = (*SEED, f"INSERT INTO invoices (total) VALUES ({total})")
        cloned = _clone(pg_server, component, _dump_of(pg_server, tmp_path, *seeded), _name("c"))
        made.append(cloned.template)
    assert _templates_of(pg_server, component) == [made[2], made[1]]
    assert _templates_of(pg_server, other) == [theirs.template]
    with pg_server.connect() as conn:
        building = {
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname IN (%s, %s)", (abandoned, running)
            )
        }
    assert building == {running}  # pid 1 runs: its build may be in progress


def test_the_name_depends_on_the_dump_the_role_and_the_component(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    name = templates.template_name("manager", a, "postgres")
    assert name == templates.template_name("manager", a, "postgres")
    assert name.startswith("dbm_snapshot_manager_") and len(name) <= 63 - 8
    others = {
        templates.template_name("manager", b, "postgres"),
        templates.template_name("manager", a, "app"),
        templates.template_name("accountmgr", a, "postgres"),
    }
    assert name not in others and len(others) == 3
    long_name = templates.template_name("A Very-Long Component Name, Indeed" * 3, a, "r")
    assert len(long_name) + len("_4194304") <= 63


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_a_template_dropped_between_the_check_and_the_copy_is_built_again(
    pg_server, tmp_path, monkeypatch
):
    """Another run's eviction may drop the template after this run saw it: one rebuild."""
    component = _name("billing")
    snapshot = _dump_of(pg_server, tmp_path, *SEED)
    real = templates.Server.database_exists
    lied = []

    def stale_once(self, name):  # says the template exists the first time, before it does
        if name.startswith(templates.PREFIX) and not lied:
            lied.append(name)
            return True
        return real(self, name)

    monkeypatch.setattr(templates.Server, "database_exists", stale_once)
    cloned = _clone(pg_server, component, snapshot, _name("target"))
    assert lied and cloned is not None and cloned.built is not None
    assert _templates_of(pg_server, component) == [cloned.template]


def test_a_role_that_may_not_create_databases_gets_nothing_and_a_masked_error(pg_server, tmp_path):
    component = _name("billing")
    snapshot = _dump_of(pg_server, tmp_path, *SEED)
    role, password = _name("app"), "s3cret-" + uuid.uuid4().hex[:8]
    with pg_server.connect() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD '{password}'")
    url = DatabaseUrl.parse(
        pg_server.url(_name("target")).replace(
            f"{pg_server.superuser}:{pg_server.password}@", f"{role}:{password}@"
        )
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as failed:
        templates.create_as_clone(url, component, snapshot)
    assert _templates_of(pg_server, component) == []
    source = UrlSource(url, True, "BILLING_DB_URL")
    text = templates.cannot_clone(component, source, failed.value).render()
    assert "Cannot create the database as a clone of the snapshot's template" in text
    assert "CREATEDB" in text and password not in text


def test_the_server_lists_complete_templates_only_with_their_sizes(pg_server, tmp_path):
    """What `db-dev-server --action=status` shows: neither a half-built copy (a run still loading
    it, or one that died) nor a database that only looks like a template by its name."""
    component = _name("listed")
    snapshot = _dump_of(pg_server, tmp_path, *SEED)
    clone = _name("db")
    built = _clone(pg_server, component, snapshot, clone)
    prefix = templates.component_prefix(component)
    half_built, look_alike = f"{prefix}{'0' * 16}_{os.getpid()}", f"{prefix}{'f' * 16}"
    for name in (half_built, look_alike):
        pg_server.create_database(name)
    with _server(pg_server) as server:
        listed = [k for k in templates.on_server(server) if k.name.startswith(prefix)]
    assert [k.name for k in listed] == [built.template]
    with pg_server.connect() as conn:
        size = conn.execute("SELECT pg_database_size(%s)", (clone,)).fetchone()[0]
    assert abs(listed[0].size_bytes - size) < size // 10  # a clone is as big as its template

"""Manager revisions that move data: the rows must arrive on upgrade and come back on downgrade."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from migrations.components import MANAGER, Catalog

from db_migrate.runner.postgres.server import LocalServer


@pytest.fixture
def catalog(pg_server: LocalServer, pg_database: str) -> Iterator[Catalog]:
    with pg_server.connect(pg_database) as conn:
        yield Catalog(conn)


@pytest.fixture
def config(pg_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(MANAGER.url_env_var, pg_url)
    return MANAGER.config()


def _owner(conn: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    """A domain, a user and a project to own sessions; returns (user, project)."""
    user, project = uuid.uuid4(), uuid.uuid4()
    conn.execute("INSERT INTO domains (name) VALUES ('default')")
    conn.execute(
        "INSERT INTO users (uuid, email, domain_name) VALUES (%s, 'owner@example.com', 'default')",
        (user,),
    )
    conn.execute(
        "INSERT INTO groups (id, name, domain_name) VALUES (%s, 'project', 'default')", (project,)
    )
    return user, project


def _add_session(conn, user, project, depends_on=None, session_id=None) -> uuid.UUID:
    session_id = session_id or uuid.uuid4()
    columns = "id, domain_name, group_id, user_uuid, occupying_slots, requested_slots"
    values = [session_id, "default", project, user, "{}", "{}"]
    if depends_on is not None or "depends_on" in Catalog(conn).columns("sessions"):
        columns += ", depends_on"
        values.append(depends_on)
    placeholders = ", ".join(["%s"] * len(values))
    conn.execute(f"INSERT INTO sessions ({columns}) VALUES ({placeholders})", values)
    return session_id


def test_session_dependencies_move_to_their_own_table_and_back(config, catalog: Catalog) -> None:
    before, move = "eace797882f8", "e0fe1ca0e041"
    command.upgrade(config, before)
    conn = catalog.conn
    user, project = _owner(conn)
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    gone = uuid.uuid4()  # a dependency on a session that no longer exists
    _add_session(conn, user, project, None, b)
    _add_session(conn, user, project, [b, c], a)
    _add_session(conn, user, project, [b], c)
    _add_session(conn, user, project, [gone, b], d)

    command.upgrade(config, move)
    assert "depends_on" not in catalog.columns("sessions")
    rows = conn.execute("SELECT session_id, depends_on FROM session_dependencies").fetchall()
    assert set(rows) == {(a, b), (a, c), (c, b), (d, b)}

    command.downgrade(config, before)
    assert "session_dependencies" not in catalog.tables()
    restored = dict(conn.execute("SELECT id, depends_on FROM sessions").fetchall())
    assert {key: set(value) if value else None for key, value in restored.items()} == {
        a: {b, c},
        b: None,
        c: {b},
        d: {b},  # the dangling dependency had nothing to point at and is gone
    }


def test_user_is_active_becomes_a_status_and_back(config, catalog: Catalog) -> None:
    before, status = "32a6cf7eca06", "47937f5e426d"
    command.upgrade(config, before)
    conn = catalog.conn
    conn.execute("INSERT INTO domains (name) VALUES ('default')")
    active, inactive = uuid.uuid4(), uuid.uuid4()
    conn.execute(
        "INSERT INTO users (uuid, email, domain_name, is_active) VALUES"
        " (%s, 'a@example.com', 'default', true), (%s, 'b@example.com', 'default', false)",
        (active, inactive),
    )
    command.upgrade(config, status)
    assert dict(conn.execute("SELECT uuid, status::text FROM users").fetchall()) == {
        active: "active",
        inactive: "inactive",
    }
    command.downgrade(config, before)
    assert "status" not in catalog.columns("users")
    assert "userstatus" not in catalog.enums()
    assert dict(conn.execute("SELECT uuid, is_active FROM users").fetchall()) == {
        active: True,
        inactive: False,
    }


def test_kernelstatus_loses_pulling_on_downgrade(config, catalog: Catalog) -> None:
    before, pulling = "97bf18bbfc12", "98b085964505"
    command.upgrade(config, pulling)
    assert "PULLING" in catalog.enum_values("kernelstatus")
    conn = catalog.conn
    user, project = _owner(conn)
    session = _add_session(conn, user, project)
    kernel = uuid.uuid4()
    conn.execute(
        "INSERT INTO kernels (id, session_id, cluster_hostname, occupied_slots, status,"
        " domain_name, group_id, user_uuid, repl_in_port, repl_out_port, stdin_port, stdout_port)"
        " VALUES (%s, %s, 'main1', '{}', 'PULLING', 'default', %s, %s, 1, 2, 3, 4)",
        (kernel, session, project, user),
    )
    command.downgrade(config, before)
    assert "PULLING" not in catalog.enum_values("kernelstatus")
    assert conn.execute("SELECT status::text FROM kernels").fetchall() == [("PREPARING",)]
    assert "ix_kernels_unique_sess_token" in catalog.indexes()
    command.upgrade(config, "head")
    assert catalog.versions(MANAGER.version_table) == {MANAGER.head()}

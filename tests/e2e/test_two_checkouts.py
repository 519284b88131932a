"""Two checkouts on one machine whose development servers want the same port.

The first checkout's server listens there, with the same default password: the second checkout
must see that it is not its own (its data folder says so), name it, touch nothing on it, and say
how to give itself a port of its own.
"""

from __future__ import annotations

import re

import psycopg
from e2e.conftest import _isolated_copy, _shutdown, move_dev_port

from db_migrate.runner.postgres.server import LocalServer

ACCOUNTMGR = "src/ai/backend/accountmgr::"
MANAGER = "src/ai/backend/manager::"
DEV_PASSWORD = "develove"  # the inis' default


def dev_port(copy) -> int:
    return int(re.search(r"dev_server_port = (\d+)", copy.read("pants.toml")).group(1))


def what_it_holds(server: LocalServer) -> tuple:
    """The databases of a server and accountmgr's revisions there: what must not change."""
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        names = sorted(r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall())
    with psycopg.connect(server.conninfo("accountmgr"), autocommit=True) as conn:
        versions = conn.execute("SELECT version_num FROM alembic_version_accountmgr").fetchall()
    return names, versions


def test_a_second_checkout_never_uses_the_first_checkouts_dev_server(tmp_path):
    first = _isolated_copy(tmp_path / "first")
    port = dev_port(first)
    second = _isolated_copy(tmp_path / "second", port=port)  # the same port, on purpose
    try:
        assert first.run("db-migrate", ACCOUNTMGR).returncode == 0
        theirs = LocalServer(first.root / ".dev-postgres" / "data", port, DEV_PASSWORD)
        before = what_it_holds(theirs)
        title = f"❌ Error: The server on 127.0.0.1:{port} is not this checkout's development server"

        status = second.run("db-dev-server", "--action=status")
        assert status.returncode == 1, status
        assert "not created yet" in status.stdout, status
        refusals = [status]
        for args in (
            ("db-status", ACCOUNTMGR),
            ("db-migrate", ACCOUNTMGR),
            ("db-migrate", MANAGER),  # its database does not exist there: not created either
            ("db-dev-server", "--action=start"),
        ):
            refused = second.run(*args)
            assert refused.returncode == 1, refused
            refusals.append(refused)
        for refused in refusals:
            assert title in refused.stderr, refused
            assert f"data folder is {theirs.data_dir}" in refused.stderr, refused
            assert "Nothing was read or written there" in refused.stderr, refused
            assert "dev_server_port = " in refused.stderr, refused
            assert "Traceback" not in refused.output, refused
        assert what_it_holds(theirs) == before
        assert not (second.root / ".dev-postgres" / "data" / "PG_VERSION").exists()

        # What the error says to do: a port of its own, in pants.toml and the inis.
        advised = int(re.search(r"dev_server_port = (\d+)", status.stderr).group(1))
        assert advised != port
        move_dev_port(second, port, advised)
        own = second.run("db-migrate", ACCOUNTMGR)
        assert own.returncode == 0, own
        assert f"127.0.0.1:{advised}" in own.stdout, own
        assert (second.root / ".dev-postgres" / "data" / "PG_VERSION").exists()
        assert what_it_holds(theirs) == before
    finally:
        _shutdown(second)
        _shutdown(first)

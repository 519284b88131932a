"""Pytest fixtures backed by a real PostgreSQL server (see `pgserver`).

One throwaway server per test session; every test that asks for a database gets a fresh, empty one,
cloned from a prepared template database (much faster than creating one from scratch).
Use them from a conftest.py: `from testsupport.postgres import pg_server, pg_database, pg_url`.
"""

from __future__ import annotations

import random
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from db_migrate.runner.postgres.server import LocalServer, pg_bin, throwaway_server

TEMPLATE_DATABASE = "db_migrate_test_template"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalServer]:
    """A running throwaway PostgreSQL server with the template database; stopped and deleted at the end."""
    with throwaway_server() as server:
        server.create_database(TEMPLATE_DATABASE)
        with server.connect() as conn:
            conn.execute(
                f'ALTER DATABASE "{TEMPLATE_DATABASE}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'
            )
        yield server


@pytest.fixture
def pg_database(pg_server: LocalServer) -> Iterator[str]:
    """The name of a fresh, empty database on `pg_server`, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    pg_server.create_database(name, template=TEMPLATE_DATABASE)
    yield name
    pg_server.drop_database(name, force=True)


@pytest.fixture
def pg_url(pg_server: LocalServer, pg_database: str) -> str:
    """The SQLAlchemy URL (`postgresql+psycopg://...`) of `pg_database`."""
    return pg_server.url(pg_database)


def dev_server_port() -> int:
    """A port for a test's development server, below the kernel's ephemeral range.

    `free_port()` hands out an ephemeral port, free only now: the throwaway servers and outgoing
    connections of tests running beside this one draw from the same range, and one took a
    development port between the fixture choosing it and `db-dev-server --action=start` (CI
    failed so). Below the range only another test's explicit choice can collide, and a random
    pick that nobody listens on makes that unlikely.
    """
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for _ in range(200):
        port = random.randrange(10000, min(low, 32768))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between 10000 and {low}")


def pg_dump_text(server: LocalServer, database: str, *flags: str) -> str:
    """The database as `pg_dump` writes it, without psql's `\\restrict` lines (a random key per
    dump): two dumps of equal databases are equal text."""
    out = subprocess.run(
        [str(pg_bin("pg_dump")), *flags, server.conninfo(database)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith("\\"))

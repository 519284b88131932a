"""Pytest fixtures backed by a real PostgreSQL server (see `pgserver`).

One throwaway server per test session; every test that asks for a database gets a fresh, empty one,
cloned from a prepared template database (much faster than creating one from scratch).
Use them from a conftest.py: `from testsupport.postgres import pg_server, pg_database, pg_url`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from db_migrate.runner.postgres.server import LocalServer, throwaway_server

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

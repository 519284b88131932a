"""How pantsd reaches a component's database (`in_pantsd.reach`): as the runner would, and not at
all where pantsd's own process state could make it reach another one. The reads themselves run
against a real PostgreSQL in tests/e2e/test_read_in_pantsd.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from psycopg.conninfo import conninfo_to_dict

from db_migrate.goals.in_pantsd import reach

HOME = os.environ.get("HOME", "/root")
URL = "postgresql+asyncpg://app:s3cret@db.example:6543/appdb"
INI_DEV_URL = "postgresql+psycopg://postgres:devpass@127.0.0.1:8101/manager"


def reached(environ=None, ini_url=None, **kw):
    settings = {
        "build_root": "/repo",
        "dev_server_dir": ".dev-postgres",
        "dev_server_port": 8101,
        "connect_timeout": 5,
        "network_timeout": 30,
    }
    settings.update(kw)
    env = {"HOME": HOME, **(environ or {})}
    return reach("manager", "MANAGER_DB_URL", ini_url, "alembic_version", env, **settings)


@pytest.fixture(autouse=True)
def no_libpq_settings(monkeypatch):
    for name in [k for k in os.environ if k.startswith("PG")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", HOME)


def test_the_users_url_with_every_parameter_the_runner_gives():
    where = reached({"MANAGER_DB_URL": URL}, ini_url=INI_DEV_URL)
    params = conninfo_to_dict(where.conninfo)
    assert (params["host"], params["port"], params["dbname"]) == ("db.example", "6543", "appdb")
    assert (params["user"], params["password"]) == ("app", "s3cret")
    assert (
        params["connect_timeout"] == "5"
        and params["application_name"] == "pants db-migrate (manager)"
    )
    assert params["tcp_user_timeout"] == "30000" and params["keepalives"] == "1"
    assert where.masked == "postgresql+asyncpg://app:***@db.example:6543/appdb"
    assert where.dev_data_dir is None, "a URL from the environment is never the development server"


def test_the_ini_url_of_the_development_server_is_checked_for_its_data_folder():
    where = reached(ini_url=INI_DEV_URL)
    assert where.dev_data_dir == Path("/repo/.dev-postgres/data")
    other_port = reached(ini_url=INI_DEV_URL.replace("8101", "8102"))
    assert other_port.dev_data_dir is None


def test_the_users_libpq_settings_are_passed_unless_the_url_sets_them():
    env = {"MANAGER_DB_URL": URL, "PGSSLMODE": "require", "PGOPTIONS": "-c search_path=app"}
    params = conninfo_to_dict(reached(env).conninfo)
    assert params["sslmode"] == "require" and params["options"] == "-c search_path=app"
    own = {**env, "MANAGER_DB_URL": URL + "?sslmode=disable"}
    assert conninfo_to_dict(reached(own).conninfo)["sslmode"] == "disable"


def test_a_url_with_a_socket_in_its_query():
    url = "postgresql+psycopg://app@/appdb?host=/run/pg&port=5433"
    params = conninfo_to_dict(reached({"MANAGER_DB_URL": url}).conninfo)
    assert (params["host"], params["port"], params["dbname"]) == ("/run/pg", "5433", "appdb")


@pytest.mark.parametrize(
    "environ, ini_url",
    [
        ({}, None),  # no URL at all: the runner says so
        ({"MANAGER_DB_URL": "mysql://app@db/appdb"}, None),
        ({"MANAGER_DB_URL": "not a url"}, None),
    ],
)
def test_no_usable_url_is_left_to_the_runner(environ, ini_url):
    assert reached(environ, ini_url=ini_url) is None


def test_a_libpq_variable_in_pantsds_own_environment_is_left_to_the_runner(monkeypatch):
    assert reached({"MANAGER_DB_URL": URL}) is not None
    monkeypatch.setenv("PGPASSFILE", "/elsewhere/.pgpass")
    assert reached({"MANAGER_DB_URL": URL}) is None


def test_another_home_than_pantsds_is_left_to_the_runner():
    """~/.pgpass is read from pantsd's home: a user whose shell has another is not reached here."""
    assert reached({"MANAGER_DB_URL": URL, "HOME": "/home/someone-else"}) is None

"""Each way a connection fails, produced for real, gets its own reason and its own advice."""

from __future__ import annotations

import socket

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.core import report
from db_migrate.core.database_url import DatabaseUrl, UrlSource
from db_migrate.core.report import ProblemError
from db_migrate.runner.postgres.database import connect
from db_migrate.runner.postgres.server import free_port


def refusal(url: str, *, config: str = "", timeout: float = 2) -> report.Problem:
    """The problem `connect` raises for `url` (the test fails when it connects)."""
    source = UrlSource(DatabaseUrl.parse(url), not config, "APP_DB_URL", config)
    with pytest.raises(ProblemError) as raised:
        connect(source, "app", timeout).close()
    problem = raised.value.problem
    assert problem.kind == "cannot_connect" and problem.title == "Cannot connect to database"
    return problem


def no_goal_recommends_itself(problem: report.Problem) -> None:
    text = problem.render()
    assert "pants db-status" not in text and "pants db-migrate" not in text, text


def test_a_wrong_password(pg_server):
    url = f"postgresql+psycopg://{pg_server.superuser}:wrong@{pg_server.host}:{pg_server.port}/postgres"
    problem = refusal(url)
    assert problem.details[0] == (
        f"Password authentication failed for user '{pg_server.superuser}' at"
        f" {pg_server.host}:{pg_server.port}"
    )
    assert problem.actions[0] == f"Check the password of user '{pg_server.superuser}' in APP_DB_URL"
    assert not [a for a in problem.actions if "pg_isready" in a or "Start" in a]
    assert "wrong" not in problem.render().replace("Password", "")
    no_goal_recommends_itself(problem)


def test_a_missing_database_names_the_ini_it_came_from(pg_server):
    problem = refusal(pg_server.url("nothing_here"), config="alembic.ini")
    assert problem.details[0].startswith("Database 'nothing_here' does not exist")
    assert problem.actions == (
        f"Create it: createdb -h {pg_server.host} -p {pg_server.port} -U {pg_server.superuser}"
        " nothing_here",
        "Or name an existing database in sqlalchemy.url in alembic.ini",
    )


def test_a_missing_role(pg_server):
    url = f"postgresql+psycopg://nobody_here:pw@{pg_server.host}:{pg_server.port}/postgres"
    problem = refusal(url)
    # PostgreSQL answers a password check for an unknown role as a failed password (no leak).
    assert problem.details[0].startswith(
        ("Role 'nobody_here' does not exist", "Password authentication failed")
    )
    assert "pg_isready" not in problem.render()


def test_ssl_required_by_a_server_without_ssl(pg_server):
    url = pg_server.url("postgres") + "?sslmode=require"
    problem = refusal(url)
    assert problem.details[0].startswith(f"SSL negotiation with {pg_server.host}:{pg_server.port}")
    assert problem.actions[0].startswith("Check sslmode in APP_DB_URL")
    assert not [a for a in problem.actions if "pg_isready -h" in a and "-t" not in a]
    no_goal_recommends_itself(problem)


def test_an_unknown_host():
    problem = refusal("postgresql+psycopg://u:p@nonexistent.invalid:5432/db")
    assert problem.details[0] == "Unknown host 'nonexistent.invalid' (nonexistent.invalid:5432)"
    assert problem.actions == (
        "Check the host name in APP_DB_URL: 'nonexistent.invalid' does not resolve",
        "Check DNS (or /etc/hosts) on this machine: getent hosts nonexistent.invalid",
    )


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts TCP (the backlog) and never speaks PostgreSQL
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        problem = refusal(
            f"postgresql+psycopg://u:p@127.0.0.1:{port}/db?sslmode=disable", timeout=1
        )
    assert problem.details[0] == f"Connection to 127.0.0.1:{port} timed out"
    assert problem.actions[0].endswith(f"pg_isready -h 127.0.0.1 -p {port} -t 10")
    assert "connect_timeout" in problem.actions[1]


def test_a_refused_connection():
    port = free_port()
    problem = refusal(f"postgresql+psycopg://u:p@127.0.0.1:{port}/db")
    assert problem.details[0] == f"Connection refused to 127.0.0.1:{port}"
    assert problem.actions == (
        f"Check PostgreSQL is running: pg_isready -h 127.0.0.1 -p {port}",
        "Start the database server, or point app at a running one with APP_DB_URL",
        "Check the host and port in APP_DB_URL",
    )
    assert problem.related is None


@pytest.mark.parametrize(
    "cause", [report.BAD_PASSWORD, report.MISSING_DATABASE, report.SSL, report.TIMEOUT]
)
def test_the_development_server_is_offered_only_when_it_could_help(cause):
    at = report.Endpoint("127.0.0.1", 8101, "postgres", "backend", "MANAGER_DB_URL", "url")
    refused = report.cannot_connect("manager", at, report.REFUSED, "refused", dev_server=True)
    assert "pants db-dev-server --action=start" in refused.render()
    other = report.cannot_connect("manager", at, cause, "why", dev_server=True)
    assert "db-dev-server" not in other.render()


def test_connections_get_keepalives_from_the_network_timeout_the_urls_own_win(pg_server):
    plain = UrlSource(DatabaseUrl.parse(pg_server.url()), True, "MANAGER_DB_URL")
    with connect(plain, "manager", 5, network_timeout=30) as conn:
        given = conn.info.get_parameters()
    assert given["keepalives_idle"] == "10" and given["tcp_user_timeout"] == "30000"
    own = UrlSource(
        DatabaseUrl.parse(pg_server.url() + "?keepalives_idle=7"), True, "MANAGER_DB_URL"
    )
    with connect(own, "manager", 5, network_timeout=30) as conn:
        assert conn.info.get_parameters()["keepalives_idle"] == "7"
    with connect(plain, "manager", 5, network_timeout=0) as conn:
        assert "tcp_user_timeout" not in conn.info.get_parameters()

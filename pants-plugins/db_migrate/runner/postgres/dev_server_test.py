"""A development server is ours by its data folder, not by its port."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import ProblemError
from db_migrate.runner.postgres.dev_server import DevServerSettings, check_owner, ensure_database


def _settings(data_dir: Path, pg_server) -> DevServerSettings:
    return DevServerSettings(data_dir=data_dir, port=pg_server.port)


def test_the_server_on_our_data_folder_is_ours(pg_server):
    ours = _settings(pg_server.data_dir.parent, pg_server)  # data in <data_dir>/data
    with pg_server.connect() as conn:
        check_owner(ours, conn, DatabaseUrl.parse(pg_server.url()), "accountmgr")


def test_another_checkouts_server_on_our_port_is_named_and_refused(pg_server, tmp_path):
    mine = _settings(tmp_path / ".dev-postgres", pg_server)
    url = DatabaseUrl.parse(pg_server.url())
    with pg_server.connect() as conn, pytest.raises(ProblemError) as refused:
        check_owner(mine, conn, url, "accountmgr")
    problem = refused.value.problem
    assert problem.kind == "dev_server_not_ours"
    assert problem.title == f"The server on {url.where} is not this checkout's development server"
    text = problem.render()
    assert f"data folder is {pg_server.data_dir}" in text
    assert f"data in {tmp_path / '.dev-postgres' / 'data'}) has not been created yet" in text
    assert "dev_server_port = " in text and "[db-migrations]" in text


def test_a_server_whose_folder_we_may_not_read_is_not_ours(pg_server, pg_database):
    with pg_server.connect() as admin:
        admin.execute("CREATE ROLE app LOGIN PASSWORD 'app'")
    try:
        url = DatabaseUrl.parse(
            pg_server.url(pg_database).replace(f"postgres:{pg_server.password}@", "app:app@", 1)
        )
        mine = _settings(pg_server.data_dir.parent, pg_server)
        with psycopg.connect(url.conninfo(), autocommit=True) as conn, pytest.raises(
            ProblemError
        ) as refused:
            check_owner(mine, conn, url, "accountmgr")
        assert "user 'app' may not read its data_directory" in refused.value.problem.render()
    finally:
        with pg_server.connect() as admin:
            admin.execute("DROP ROLE app")


def test_nothing_is_created_on_a_server_that_is_not_ours(pg_server, tmp_path):
    mine = _settings(tmp_path / ".dev-postgres", pg_server)
    url = DatabaseUrl.parse(pg_server.url("not_created_here"))
    with pytest.raises(ProblemError) as refused:
        ensure_database(mine, url, "accountmgr")
    assert refused.value.problem.kind == "dev_server_not_ours"
    assert not pg_server.database_exists("not_created_here")
    assert not (tmp_path / ".dev-postgres").exists()  # and no server of our own was made

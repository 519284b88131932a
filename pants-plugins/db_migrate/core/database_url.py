"""A component's database URL: where it came from, how it prints (masked), and what libpq needs to
reach the same database.

Any SQLAlchemy PostgreSQL URL is accepted (`postgresql://`, `+psycopg`, `+psycopg2`, `+asyncpg`,
`+pg8000`): SQLAlchemy's `make_url` reads it (a URL of the plain shape is read as it would,
without importing SQLAlchemy: see `plain_url`), and every connection of ours (the runner's, and
pantsd's own read: `goals/in_pantsd.py`) speaks libpq through psycopg with the same host, port,
user, password, database and every libpq parameter of the URL. Shared by both sides, so the two
reach one database the same way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Mapping, Optional, Tuple, Union

from db_migrate.core import report
from db_migrate.core.plain_url import PlainUrl, plain_url
from db_migrate.core.report import Problem, ProblemError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DEFAULT_PORT = 5432
DRIVERS = ("", "psycopg", "psycopg2", "psycopg2cffi", "asyncpg", "pg8000", "psycopg_async")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# asyncpg spells `sslmode` as `ssl` and accepts booleans.
_ASYNCPG_SSL = {"true": "require", "1": "require", "false": "disable", "0": "disable"}
# What the URL's own parts say; never taken from the query.
_FROM_URL = ("user", "password", "dbname")


@functools.cache
def libpq_keywords() -> frozenset:
    """Every connection parameter this libpq knows (sslmode, sslrootcert, options, service, ...)."""
    import psycopg

    return frozenset(o.keyword.decode() for o in psycopg.pq.Conninfo.get_defaults())


def _libpq_query(url: Union[URL, PlainUrl]) -> Dict[str, str]:
    """The URL's query as libpq parameters: repeated keys joined (libpq's multi-host lists),
    asyncpg's `ssl` read as `sslmode`, parameters only a Python driver knows left out."""
    params: Dict[str, str] = {}
    for key, value in url.query.items():
        text = ",".join(value) if isinstance(value, tuple) else str(value)
        if key == "ssl" and "sslmode" not in url.query:
            mode = _ASYNCPG_SSL.get(text.lower(), text)
            if mode in SSL_MODES:
                params["sslmode"] = mode
        elif key in libpq_keywords() and key not in _FROM_URL:
            params[key] = text
    return params


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL SQLAlchemy URL, with what libpq needs to reach the same database."""

    url: Union[URL, PlainUrl]

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        text = text.strip()
        url = plain_url(text) or _sqlalchemy_url(text)
        if url.get_backend_name() != "postgresql":
            raise ValueError(
                f"not a PostgreSQL URL (scheme `{url.drivername}`); expected postgresql+psycopg://"
            )
        driver = url.drivername.partition("+")[2]
        if driver not in DRIVERS:
            raise ValueError(
                f"unknown PostgreSQL driver `{driver}`; use one of "
                + ", ".join(f"postgresql+{d}" for d in DRIVERS if d)
            )
        return cls(url)

    @property
    def user(self) -> Optional[str]:
        return self.url.username

    @property
    def password(self) -> Optional[str]:
        return self.url.password if self.url.password is None else str(self.url.password)

    @property
    def host(self) -> str:
        return self.url.host or _libpq_query(self.url).get("host") or "localhost"

    @property
    def port(self) -> int:
        query_port = _libpq_query(self.url).get("port", "")
        return self.url.port or (int(query_port) if query_port.isdigit() else DEFAULT_PORT)

    @property
    def database(self) -> str:
        return self.url.database or self.user or "postgres"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def masked(self) -> str:
        """The URL as printed: the password replaced by `***`."""
        return self.url.render_as_string(hide_password=True)

    def with_database(self, database: str) -> DatabaseUrl:
        return DatabaseUrl(self.url.set(database=database))

    def libpq_params(self, *, password: bool = True) -> Dict[str, str]:
        params = _libpq_query(self.url)
        params.update(host=self.host, port=str(self.port), dbname=self.database)
        if self.user is not None:
            params["user"] = self.user
        if password and self.password is not None:
            params["password"] = self.password
        return params

    def connect_kwargs(self, connect_timeout: float, application_name: str) -> Dict[str, str]:
        """Keyword arguments for `psycopg.connect`: the URL's libpq parameters and ours."""
        return {
            **self.libpq_params(),
            "connect_timeout": str(max(1, int(round(connect_timeout)))),
            "application_name": application_name,
        }

    def libpq_env(self) -> Dict[str, str]:
        """The password for libpq tools (pg_dump, pg_restore), which never get it in argv."""
        return {"PGPASSWORD": self.password} if self.password is not None else {}

    def conninfo(self, *, password: bool = True, **extra) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(**{**self.libpq_params(password=password), **extra})

    def sync_url(self) -> URL:
        """The same database for SQLAlchemy through psycopg (the connection env.py is handed)."""
        query = {k: v for k, v in _libpq_query(self.url).items() if k not in ("host", "port")}
        if not self.url.host and "host" in _libpq_query(self.url):
            query["host"] = self.host
        return self.url.set(drivername="postgresql+psycopg", query=query, port=self.port)

    def names_same_database(self, other: URL) -> bool:
        """Whether another URL (say, of an engine env.py built itself) reaches this database."""
        them = DatabaseUrl(other)
        return (them.host, them.port, them.database) == (self.host, self.port, self.database)

    def secrets(self) -> Tuple[str, ...]:
        """What no message may show (`report.password_secrets`)."""
        return report.password_secrets(self.password, self.user, self.host, self.database)


def _sqlalchemy_url(text: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(text)
    except (ArgumentError, ValueError) as e:
        raise ValueError(f"SQLAlchemy cannot read it as a URL ({_without(e, text)})") from None


def _without(error: BaseException, text: str) -> str:
    """An error about a URL, without the URL (it may hold a password)."""
    message = str(error).replace(text.strip(), "<the URL>")
    return message.splitlines()[0] if message.strip() else type(error).__name__


LOCAL_HOSTS = ("127.0.0.1", "localhost")  # where the development server listens


@dataclass(frozen=True)
class UrlSource:
    """Where a component's URL came from, so messages can say what to change."""

    url: DatabaseUrl
    from_env: bool
    env_var: str
    config: str = ""  # the ini whose sqlalchemy.url it is, when not from the environment

    @property
    def origin(self) -> str:
        """What the user edits to change it."""
        if self.from_env or not self.config:
            return self.env_var
        return f"sqlalchemy.url in {self.config}"

    def is_dev_server(self, port: int) -> bool:
        """The ini's own URL aimed at the repo's development server (a URL from the
        environment is the user's database, whatever its port)."""
        return not self.from_env and self.url.host in LOCAL_HOSTS and self.url.port == port

    def endpoint(self) -> report.Endpoint:
        url = self.url
        return report.Endpoint(
            url.host, url.port, url.user, url.database, self.origin, url.masked()
        )


def resolve_url(
    env_var: str, ini_url: Optional[str], environ: Mapping[str, str], component: str, config: str
) -> UrlSource:
    raw = environ.get(env_var)
    from_env = bool(raw)
    if not raw:
        raw = ini_url
    if not raw:
        raise ProblemError(
            Problem(
                title="No database configured",
                details=(
                    f"{component} has no database URL: {env_var} is not set and {config} has no sqlalchemy.url",
                ),
                actions=(
                    f"Set {env_var}=postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB",
                    f"Or add sqlalchemy.url to the [alembic] section of {config}",
                ),
                kind="no_database_url",
            )
        )
    try:
        return UrlSource(DatabaseUrl.parse(raw), from_env, env_var, config)
    except ValueError as e:
        origin = env_var if from_env else f"sqlalchemy.url in {config}"
        raise ProblemError(
            Problem(
                title="Invalid database URL",
                details=(f"{origin} is not usable: {e}",),
                actions=(f"Fix {origin}: postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB",),
                kind="invalid_database_url",
            )
        ) from None


def network_params(timeout: float, url: Optional[DatabaseUrl] = None) -> Dict[str, str]:
    """libpq's TCP keepalives and user timeout for a peer that stops answering within `timeout`
    seconds: probes start after a third of it, unacknowledged data fails the connection at
    `timeout`. They notice a dead network when nothing answers in its place; a proxy that holds
    the connection open is noticed by `faults.watch` instead. None for `timeout` 0, and none the
    `url` sets itself (the user's own win)."""
    if timeout <= 0:
        return {}
    idle = max(1, int(timeout // 3))
    params = {
        "keepalives": "1",
        "keepalives_idle": str(idle),
        "keepalives_interval": str(max(1, idle // 2)),
        "keepalives_count": "3",
        "tcp_user_timeout": str(int(timeout * 1000)),
    }
    given = url.libpq_params() if url is not None else {}
    return {k: v for k, v in params.items() if k not in given}

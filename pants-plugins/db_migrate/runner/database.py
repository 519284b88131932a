"""Reach a component's database: its URL, a masked form for output, and a connection.

Parses SQLAlchemy URLs without importing SQLAlchemy so a no-op run stays fast. Every failure to
connect becomes the specification's "Cannot connect to database" block, naming host and port
but never the password.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Optional
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import psycopg
from psycopg import errors as pg_errors

from db_migrate import report
from db_migrate.report import Problem, ProblemError

DEFAULT_PORT = 5432


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL SQLAlchemy URL, split into what libpq needs."""

    scheme: str
    user: Optional[str]
    password: Optional[str] = field(repr=False)
    host: str
    port: int
    database: str
    query: tuple = ()

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        parts = urlsplit(url.strip())
        scheme = parts.scheme
        if not scheme.startswith("postgresql"):
            raise ValueError(
                f"not a PostgreSQL URL (scheme `{scheme or '?'}`); expected postgresql+psycopg://"
            )
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise ValueError("the port is not a number") from None
        query = tuple(parse_qsl(parts.query))
        host = unquote(parts.hostname or "") or dict(query).get("host", "") or "localhost"
        return cls(
            scheme=scheme,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            host=host,
            port=port,
            database=unquote(parts.path.lstrip("/"))
            or (unquote(parts.username or "") or "postgres"),
            query=tuple((k, v) for k, v in query if k != "host"),
        )

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def masked(self) -> str:
        """The URL as printed: the password replaced by `***`."""
        auth = ""
        if self.user is not None:
            auth = quote(self.user, safe="")
            if self.password is not None:
                auth += ":***"
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{auth}{host}:{self.port}/{self.database}"

    def with_database(self, database: str) -> DatabaseUrl:
        return replace(self, database=database)

    def render(self) -> str:
        """The full URL, password included: only for the environment of a child process."""
        auth = ""
        if self.user is not None:
            auth = quote(self.user, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in self.query)
        return f"{self.scheme}://{auth}{host}:{self.port}/{quote(self.database)}" + (
            f"?{query}" if query else ""
        )

    def connect_kwargs(self, connect_timeout: float, application_name: str) -> dict:
        kwargs = dict(self.query)
        kwargs.update(
            host=self.host,
            port=self.port,
            dbname=self.database,
            connect_timeout=max(1, int(round(connect_timeout))),
            application_name=application_name,
        )
        if self.user is not None:
            kwargs["user"] = self.user
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs

    def libpq_env(self) -> dict:
        """Environment for libpq tools (pg_dump, pg_restore): the password never goes in argv."""
        env = {"PGHOST": self.host, "PGPORT": str(self.port), "PGDATABASE": self.database}
        if self.user is not None:
            env["PGUSER"] = self.user
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        sslmode = dict(self.query).get("sslmode")
        if sslmode:
            env["PGSSLMODE"] = sslmode
        return env


@dataclass(frozen=True)
class UrlSource:
    """Where a component's URL came from, so messages can say what to change."""

    url: DatabaseUrl
    from_env: bool
    env_var: str


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
        return UrlSource(DatabaseUrl.parse(raw), from_env, env_var)
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


def classify_connect_error(exc: BaseException, url: DatabaseUrl) -> str:
    """The spec's one-line reason, naming host and port, never the password."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = str(exc).lower()
    where = url.where
    if "password authentication failed" in lowered or isinstance(exc, pg_errors.InvalidPassword):
        return f"Password authentication failed for user '{url.user}' at {where}"
    if "does not exist" in lowered and "database" in lowered:
        return f"Database '{url.database}' does not exist on {where}"
    if "does not exist" in lowered and "role" in lowered:
        return f"Role '{url.user}' does not exist on {where}"
    if "connection refused" in lowered:
        return f"Connection refused to {where}"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return f"Unknown host '{url.host}' ({where})"
    if "timeout expired" in lowered or "timed out" in lowered:
        return f"Connection to {where} timed out"
    if "no password supplied" in lowered:
        return f"{where} asks for a password and none was given for user '{url.user}'"
    if url.password:
        text = text.replace(url.password, "***")
    return f"{text} ({where})"


def connect(
    source: UrlSource,
    component: str,
    connect_timeout: float,
    *,
    autocommit: bool = True,
    dev_server: bool = False,
) -> psycopg.Connection:
    url = source.url
    try:
        return psycopg.connect(
            **url.connect_kwargs(connect_timeout, f"pants db-migrate ({component})"),
            autocommit=autocommit,
        )
    except psycopg.Error as e:
        reason = classify_connect_error(e, url)
        raise ProblemError(
            report.cannot_connect(
                component, url.where, reason, source.env_var, url.masked(), dev_server
            )
        ) from None

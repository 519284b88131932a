"""Connect to a component's database (its URL: `core/database_url.py`).

Our own connections (lock, version table, ledger, checks, the connection env.py is handed,
pg_dump) all speak libpq through psycopg with the URL's parameters. Every failure to connect
becomes the specification's "Cannot connect to database" block, naming host and port but never
the password.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import errors as pg_errors

from db_migrate.core import report
from db_migrate.core.database_url import DatabaseUrl, UrlSource, network_params
from db_migrate.core.report import ProblemError


@dataclass(frozen=True)
class ConnectFailure:
    """Why a connection failed: a `report` cause (which advice fits) and the spec's one line."""

    cause: str
    reason: str


_HOST_UNKNOWN = (
    "could not translate host name",
    "failed to resolve host",
    "name or service not known",
    "temporary failure in name resolution",
)


def classify_connect_error(exc: BaseException, url: DatabaseUrl) -> ConnectFailure:
    """The spec's one-line reason, naming host and port, never the password."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = str(exc).lower()
    where = url.where
    if "password authentication failed" in lowered or isinstance(exc, pg_errors.InvalidPassword):
        return ConnectFailure(
            report.BAD_PASSWORD, f"Password authentication failed for user '{url.user}' at {where}"
        )
    if "does not exist" in lowered and "database" in lowered:
        return ConnectFailure(
            report.MISSING_DATABASE, f"Database '{url.database}' does not exist on {where}"
        )
    if "does not exist" in lowered and "role" in lowered:
        return ConnectFailure(report.MISSING_ROLE, f"Role '{url.user}' does not exist on {where}")
    if "connection refused" in lowered:
        return ConnectFailure(report.REFUSED, f"Connection refused to {where}")
    if any(words in lowered for words in _HOST_UNKNOWN):
        return ConnectFailure(report.UNKNOWN_HOST, f"Unknown host '{url.host}' ({where})")
    if (
        isinstance(exc, pg_errors.ConnectionTimeout)
        or "timeout expired" in lowered
        or "timed out" in lowered
    ):
        return ConnectFailure(report.TIMEOUT, f"Connection to {where} timed out")
    if "no password supplied" in lowered:
        return ConnectFailure(
            report.NO_PASSWORD,
            f"{where} asks for a password and none was given for user '{url.user}'",
        )
    if "ssl" in lowered:
        return ConnectFailure(
            report.SSL, f"SSL negotiation with {where} failed: {report.mask(text, url.secrets())}"
        )
    return ConnectFailure(report.OTHER, f"{report.mask(text, url.secrets())} ({where})")


def connect_problem(exc: BaseException, source: UrlSource, component: str, dev_server: bool):
    """The `Cannot connect to database` block for a failed connection to `source`."""
    failure = classify_connect_error(exc, source.url)
    return report.cannot_connect(
        component, source.endpoint(), failure.cause, failure.reason, dev_server
    )


def connect(
    source: UrlSource,
    component: str,
    connect_timeout: float,
    *,
    autocommit: bool = True,
    dev_server: bool = False,
    options: str = "",
    network_timeout: float = 0.0,
) -> psycopg.Connection:
    url = source.url
    extra = network_params(network_timeout, url)
    extra.update(
        connect_timeout=str(max(1, int(round(connect_timeout)))),
        application_name=f"pants db-migrate ({component})",
    )
    if options:
        extra["options"] = options
    try:
        return psycopg.connect(url.conninfo(**extra), autocommit=autocommit)
    except psycopg.Error as e:
        raise ProblemError(connect_problem(e, source, component, dev_server)) from None

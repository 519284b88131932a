"""What we hand a component's env.py, and what we check when it calls `context.configure`.

Real env.py files come in every shape: sync or async (asyncpg through `async_engine_from_config`),
a URL from the ini or from an environment variable of their own, one transaction per revision or
one for the whole run. We hand each the same thing, a SQLAlchemy connection (through psycopg) to
the database we locked, in `config.attributes["connection"]`, and then look at what it configures:
another database or another version table would mean migrating what we did not lock and reporting
what we did not migrate, so both are refused before anything runs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from db_migrate.core import report
from db_migrate.core.database_url import DatabaseUrl, UrlSource, network_params
from db_migrate.core.report import Problem, ProblemError
from db_migrate.runner.postgres.database import connect_problem


@dataclass(frozen=True)
class EnvFacts:
    """How a component's env.py runs migrations, as its `configure` call says."""

    per_migration: bool  # transaction_per_migration: False means one transaction for the run
    version_table: str
    ours: bool  # it runs on the connection we handed it

    def transaction_mode(self) -> str:
        if self.per_migration:
            return "one transaction per revision (transaction_per_migration)"
        return "one transaction for the whole run (env.py does not set transaction_per_migration)"


@dataclass(frozen=True)
class HandOver:
    """The connection env.py is handed: our database, our libpq options (timeouts)."""

    source: UrlSource
    options: str
    component: str
    selector: str
    config: str
    version_table: str
    connect_timeout: float = 5.0
    network_timeout: float = 0.0
    watch: Optional[Any] = None  # the run's `faults.watch.ServerWatch`, which also watches this one

    @property
    def origin(self) -> str:
        if self.source.from_env:
            return self.source.env_var
        return f"sqlalchemy.url in {self.config}"

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        from sqlalchemy import create_engine, exc, pool

        url = self.source.url
        args: dict = network_params(self.network_timeout, url)
        args.update(
            application_name=f"pants db-migrate ({self.component}): alembic",
            connect_timeout=max(1, int(round(self.connect_timeout))),
        )
        if self.options:
            args["options"] = self.options
        engine = create_engine(url.sync_url(), poolclass=pool.NullPool, connect_args=args)
        try:
            try:
                connection = engine.connect()
            except exc.OperationalError as e:
                raise ProblemError(
                    connect_problem(e.orig or e, self.source, self.component, False)
                ) from None
            if self.watch is not None:
                self.watch.add(connection.connection.dbapi_connection, "the migration's session")
            with connection:
                yield connection
        finally:
            engine.dispose()


def _configured(args: tuple, kw: dict) -> tuple:
    """(connection, url) from `configure(connection=None, url=None, ...)`, however passed."""
    connection = kw.get("connection", args[0] if args else None)
    url = kw.get("url", args[1] if len(args) > 1 else None)
    return connection, url


def check_configure(
    hand_over: Optional[HandOver], args: tuple, kw: dict, config, env_py: str
) -> EnvFacts:
    """The facts of env.py's `configure` call; raises when it would migrate something else."""
    table = kw.get("version_table") or "alembic_version"
    schema = kw.get("version_table_schema")
    connection, url = _configured(args, kw)
    handed = config.attributes.get("connection")
    facts = EnvFacts(
        per_migration=bool(kw.get("transaction_per_migration", False)),
        version_table=f"{schema}.{table}" if schema else table,
        ours=connection is not None and connection is handed,
    )
    if hand_over is None:
        return facts
    if facts.version_table != hand_over.version_table:
        raise ProblemError(other_version_table(hand_over, env_py, facts.version_table))
    if not facts.ours:
        theirs = connection.engine.url if connection is not None else url
        if theirs is None or not hand_over.source.url.names_same_database(_as_url(theirs)):
            raise ProblemError(ignores_connection(hand_over, env_py, theirs))
    return facts


def _as_url(value):
    from sqlalchemy.engine import make_url

    return make_url(value)


def ignores_connection(hand_over: HandOver, env_py: str, theirs) -> Problem:
    where = DatabaseUrl(_as_url(theirs)).masked() if theirs is not None else "a database of its own"
    ours = hand_over.source.url.masked()
    return Problem(
        title="env.py ignores the connection it is handed",
        details=(
            f"{env_py} configures Alembic with {where}, but {hand_over.origin} names {ours}",
            f"pants db-migrate locked {ours} and handed env.py a connection to it in "
            'config.attributes["connection"]; running on would migrate another database.',
            "Nothing was changed.",
        ),
        actions=(
            f'In {env_py}, use config.attributes.get("connection") when it is set, as Alembic\'s'
            ' cookbook shows ("Sharing a Connection across one or more programmatic migration'
            ' commands")',
            f"Or make {env_py} read its URL from {hand_over.source.env_var}",
            f"Then retry: {report.goal('db-migrate', hand_over.selector)}",
        ),
        kind="env_ignores_connection",
    )


def other_version_table(hand_over: HandOver, env_py: str, theirs: str) -> Problem:
    return Problem(
        title="env.py uses another version table",
        details=(
            f"{env_py} configures Alembic with version_table {theirs}, but {hand_over.config} says "
            f"{hand_over.version_table} (the table pants db-migrate locks and reads)",
            "Nothing was changed.",
        ),
        actions=(
            f"Set `version_table = {theirs}` in the [alembic] section of {hand_over.config}",
            f"Or make {env_py} pass version_table from config.get_main_option('version_table')",
        ),
        kind="version_table_mismatch",
    )

"""`db-status` and a no-op `db-migrate` answered inside pantsd, without starting the runner.

Most runs of the two commands a developer types all day find the database where its scripts
leave it, and all they do is read the version table and the checksum ledger. Starting the
runner for that (a sandbox, an interpreter, psycopg's import) costs several times the read. With
psycopg in Pants' own environment (`[GLOBAL].plugins`), the goal reads the same tables here
(`core/applied.py`, the runner's own reading) over one short connection, and answers only when the
answer is plain:

- `db-status`: the database was read, and every applied revision is recorded in the ledger
  with its file's checksum, no edit accepted;
- `db-migrate` to head (or down to base): the lock was free and taken for the read, the
  database is at the target, the ledger complete, writable and matching every applied file.

Anything else (no psycopg here, a problem connecting, a development server that is down or not
ours, an edited file, work to do, a read that takes too long) gives None, and the runner runs as
before with its own messages: this path never prints an error and never writes.

libpq takes defaults from its process's environment. pantsd's holds none of the user's variables
(Pants keeps only HOME, PATH, USER and a few of its own), and the runner's only a few: those the
runner would see are passed as parameters. A run without pantsd is in the user's whole
environment: with any `PG*` variable there, or another home than the one whose `~/.pgpass` the
runner would read, the runner reads.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple, TypeVar

from pants.base.build_root import BuildRoot
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.rules import Get

from db_migrate.core import report
from db_migrate.core.contract import MigrateOptions, RunnerCommand
from db_migrate.core.database_url import network_params, resolve_url
from db_migrate.core.dev_server_folder import data_directory, pgdata, same_folder
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.core.status_report import FACTS, READ, DatabaseFacts
from db_migrate.goals.component_run import TIMING_PREFIX
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.subsystem import DbMigrationsSubsystem

T = TypeVar("T")
logger = logging.getLogger(__name__)


# The user's libpq settings the runner sees (`runner_process.PASSTHROUGH_ENV`), as parameters.
LIBPQ_ENV = {"PGOPTIONS": "options", "PGSSLMODE": "sslmode", "PGSSLROOTCERT": "sslrootcert"}
# What the goal asks Pants for from the user's environment, besides each component's URL variable.
CLIENT_ENV = (*LIBPQ_ENV, "HOME", "DB_MIGRATE_TIMING")


@dataclass(frozen=True)
class Reach:
    """How to reach one component's database from here, as the runner would."""

    component: str
    conninfo: str
    masked: str  # the URL as printed, without its password
    version_table: str
    dev_data_dir: Optional[Path]  # the development server's data folder, when the URL is it
    deadline: float  # seconds the whole read may take before the runner is asked instead
    timing: bool = False  # DB_MIGRATE_TIMING: log when the read began and ended (benchmarks)


def reach(
    component: str,
    url_env: str,
    ini_url: Optional[str],
    version_table: str,
    environ: Mapping[str, str],
    *,
    build_root: str,
    dev_server_dir: str,
    dev_server_port: int,
    connect_timeout: float,
    network_timeout: float,
) -> Optional[Reach]:
    """The component's database as the runner would reach it (`core/database_url.py`, the
    runner's own reading of the URL); None where that takes the runner (no usable URL, a libpq
    setting in pantsd's own environment, no psycopg here)."""
    if any(k.startswith("PG") for k in os.environ) or environ.get("HOME") != os.environ.get("HOME"):
        return None
    try:
        source = resolve_url(url_env, ini_url, environ, component, "")
        given = source.url.libpq_params()
    except (ProblemError, ImportError):
        return None
    url = source.url
    extra = {
        **network_params(network_timeout, url),
        "connect_timeout": str(max(1, int(round(connect_timeout)))),
        "application_name": f"pants db-migrate ({component})",
    }
    extra.update({k: environ[e] for e, k in LIBPQ_ENV.items() if environ.get(e) and k not in given})
    ours = source.is_dev_server(dev_server_port)
    dev_dir = pgdata(build_root, dev_server_dir) if ours else None
    deadline = connect_timeout + min(network_timeout or 10.0, 10.0)
    timing = bool(environ.get("DB_MIGRATE_TIMING"))
    conninfo = url.conninfo(**extra)
    return Reach(component, conninfo, url.masked(), version_table, dev_dir, deadline, timing)


def status_outcome(where: Reach, revisions) -> Optional[Dict]:
    """`db-status`'s outcome for a database read here (what the runner's would be), or None."""
    from db_migrate.core import applied  # psycopg's import: only when pantsd reads

    def read(conn) -> Optional[Dict]:
        current = applied.current_heads(conn, where.version_table)
        rows = applied.recorded(conn, where.version_table) or {}
        if _accepted_edits(conn, where.version_table):
            return None
        if not _all_recorded(revisions, current, rows):
            return None
        facts = DatabaseFacts(READ, where.masked, current)
        extra = {FACTS: facts.to_dict()}
        outcome = Outcome(where.component, RunnerCommand.STATUS.value, status="ok", extra=extra)
        return outcome.to_dict()

    return _read(where, read)


def no_op_outcome(
    where: Reach, revisions, heads, options: MigrateOptions
) -> Optional[Tuple[str, Dict]]:
    """(what it prints, its outcome) of a `db-migrate` with nothing to do, or None."""
    from db_migrate.core import applied  # psycopg's import: only when pantsd reads

    key = applied.lock_key(where.version_table)
    started = time.perf_counter()

    def read(conn) -> Optional[Tuple[str, Dict]]:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            return None  # another migration runs: the runner waits for it, and says so
        try:
            current = applied.current_heads(conn, where.version_table)
            at = applied.plainly_at(options.direction, options.target, current, revisions, heads)
            rows = applied.recorded(conn, where.version_table) if at else None
            if rows is None or not _writable(conn, where.version_table):
                return None
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        if not _all_recorded(revisions, current, rows, stale_too=True):
            return None
        text = (
            report.up_to_date(where.component, report.describe_heads(current))
            if current
            else report.already_at(where.component, "base", report.BASE)
        )
        outcome = Outcome(
            where.component,
            RunnerCommand.MIGRATE.value,
            direction=options.direction,
            target=options.target_label or options.target,
            status="up-to-date",
            before=current,
            after=current,
            seconds=time.perf_counter() - started,
        )
        return text + "\n", outcome.to_dict()

    return _read(where, read)


def _all_recorded(revisions, current, rows, *, stale_too: bool = False) -> bool:
    """Every applied revision recorded with its file's checksum (and, with `stale_too`, no row of
    a revision no longer applied): nothing for the ledger to say or a run to write."""
    from db_migrate.core import applied  # psycopg's import: only when pantsd reads

    facts = {r.revision: r for r in revisions}
    found = applied.audit(rows, applied.applied_revisions(revisions, current), facts)
    return not (found.changed or found.unrecorded or (stale_too and found.stale))


def _accepted_edits(conn, version_table: str) -> bool:
    """Whether an edit was ever accepted as reviewed (db-status lists them: the runner's job)."""
    from psycopg import sql

    from db_migrate.core import applied  # psycopg's import: only when pantsd reads

    name = applied.qualified_name(version_table, applied.ACCEPTED)
    if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]:
        return False
    table = applied.table_ident(version_table, applied.ACCEPTED)
    return conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(table)).fetchone()[0]


def _writable(conn, version_table: str) -> bool:
    """What `ledger.ensure` checks before a run: the role may keep the ledger (else a warning)."""
    from db_migrate.core import applied  # psycopg's import: only when pantsd reads

    name = applied.qualified_name(version_table)
    row = conn.execute("SELECT has_table_privilege(%s, 'INSERT, UPDATE, DELETE')", (name,))
    return bool(row.fetchone()[0])


def _read(where: Reach, read: Callable[[object], Optional[T]]) -> Optional[T]:
    """`read` on a new connection to `where`, in a thread given `where.deadline` seconds: a
    database that does not answer in time is left to the runner, which watches for that."""
    box: Dict[str, Optional[T]] = {}

    def work() -> None:
        box["value"] = _connected(where, read)

    asked = time.time()
    thread = threading.Thread(target=work, name=f"db-migrate read {where.component}", daemon=True)
    thread.start()
    thread.join(where.deadline)
    if where.timing:
        answered = "yes" if box.get("value") is not None else "no"
        logger.info(
            f"{TIMING_PREFIX} pantsd {where.component} asked={asked:.4f} read={time.time():.4f}"
            f" answered={answered}"
        )
    return box.get("value")


def _connected(where: Reach, read: Callable[[object], Optional[T]]) -> Optional[T]:
    import psycopg

    try:
        with psycopg.connect(where.conninfo, autocommit=True) as conn:
            if where.dev_data_dir is not None and not _ours(conn, where.dev_data_dir):
                return None
            return read(conn)
    except psycopg.Error:
        return None


def _ours(conn, data_dir: Path) -> bool:
    """Whether the server is this checkout's development server, as the runner decides it."""
    folder = data_directory(conn)
    return folder is not None and same_folder(folder, data_dir)


async def reaches(
    setups: Sequence[ComponentSetup], settings: DbMigrationsSubsystem, build_root: BuildRoot
) -> Tuple[Optional[Reach], ...]:
    """Each component's `Reach` (None where the runner must read), from the user's environment."""
    if not settings.read_in_pantsd:
        return tuple(None for _ in setups)
    names = sorted({*CLIENT_ENV, *(s.field_set.url_env for s in setups)})
    environ = await Get(EnvironmentVars, EnvironmentVarsRequest(names))
    return tuple(
        reach(
            setup.component,
            setup.field_set.url_env,
            setup.ini.url,
            setup.ini.version_table,
            environ,
            build_root=build_root.path,
            dev_server_dir=settings.dev_server_dir,
            dev_server_port=settings.dev_server_port,
            connect_timeout=settings.connect_timeout,
            network_timeout=settings.network_timeout,
        )
        if setup.ini is not None and not setup.problems
        else None
        for setup in setups
    )

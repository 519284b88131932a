"""`expected-schema` inside the resolved environment: the catalog a component's scripts give at
the revision(s) a live database records, for `db-status --drift`.

Like `verify.run`, it is what Pants caches: a throwaway PostgreSQL inside the process's own
sandbox (Unix socket, no TCP port), an empty database, the replay from base to each recorded
revision through the component's own env.py, then one read of the catalog (`verify.schema`).
The objects go into the outcome as `[kind, parent, name, description]` rows: plain catalog text,
no URL, no host path, no time, so the same inputs give the same bytes on any machine.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping

from db_migrate.core import report
from db_migrate.core.alembic_ini import parse_alembic_ini
from db_migrate.core.contract import ExpectedSchemaOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem, ProblemError

DATABASE = "expected"
OBJECTS = "objects"  # the outcome's key for the rows


def replay_on(plan: RunnerPlan[ExpectedSchemaOptions], url: str, outcome: Outcome) -> Outcome:
    """Upgrade the empty database at `url` to each recorded revision, then read its catalog."""
    from db_migrate.runner.commands.verify import connector, throwaway_session
    from db_migrate.runner.verify import schema
    from db_migrate.runner.verify.schema_reads import rows_of

    version_table = parse_alembic_ini(plan.config, Path(plan.config).read_text()).version_table
    session = throwaway_session(plan, url, version_table)
    applied = 0
    for revision in plan.options.revisions:
        try:
            done = session.run("upgrade", revision, lambda step: None, lambda done: None)
        except Exception as e:  # noqa: BLE001 - a revision or env.py: theirs, named below
            raise ProblemError(_replay_failed(plan, e)) from None
        applied += len(done)
    with connector(url, plan.component)() as conn:
        found = schema.snapshot(lambda sql: conn.execute(sql).fetchall(), version_table)
    outcome.direction, outcome.target = "upgrade", ",".join(plan.options.revisions) or "base"
    outcome.extra = {
        "revisions": applied,
        OBJECTS: rows_of(found),
    }
    return outcome.finish("ok", tuple(plan.options.revisions))


def _replay_failed(plan: RunnerPlan[ExpectedSchemaOptions], error: BaseException) -> Problem:
    from db_migrate.runner.alembic_glue.steps import StepFailed

    cause = error.error if isinstance(error, StepFailed) else error
    where = f" at revision {error.step.revision}" if isinstance(error, StepFailed) else ""
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return Problem(
        title=f"Cannot replay {plan.component}'s history on a throwaway PostgreSQL{where}",
        details=(
            "The expected schema for drift detection is the replay from base to the database's"
            " revision, and the replay failed: " + lines[0],
            *lines[1:8],
        ),
        actions=(
            f"See which revision fails and why: pants db-verify {plan.selector}",
            f"Compare without drift: pants db-status {plan.selector}",
        ),
        kind="replay_failed",
    )


def run(
    plan: RunnerPlan[ExpectedSchemaOptions], environ: Mapping[str, str], outcome: Outcome
) -> Outcome:
    """A throwaway server in this process's directory, then the replay and the catalog read."""
    from db_migrate.runner.commands.verify import throwaway_failed
    from db_migrate.runner.postgres.server import PgServerError, throwaway_server

    started = time.perf_counter()
    try:
        with throwaway_server(unix_socket=True, within=Path.cwd()) as server:
            server.create_database(DATABASE)
            replay_on(plan, server.url(DATABASE), outcome)
    except PgServerError as e:
        raise ProblemError(throwaway_failed(e)) from None
    took = report.duration(time.perf_counter() - started)
    print(
        f"{plan.component}: replayed {outcome.extra['revisions']} revision(s) to"
        f" {outcome.target} on a throwaway PostgreSQL in {took}",
        flush=True,
    )
    return outcome

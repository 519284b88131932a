"""`db-restore` inside the resolved environment: a backup back into the component's database."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from db_migrate.core import report
from db_migrate.core.alembic_ini import parse_alembic_ini
from db_migrate.core.applied import current_heads
from db_migrate.core.contract import RestoreOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.runner.postgres.backup import restore
from db_migrate.runner.postgres.sessions import active_sessions, other_sessions


def run(plan: RunnerPlan[RestoreOptions], environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    from db_migrate.runner.migration.database import locked_database

    backup = Path(plan.options.backup)
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    with locked_database(plan, ini, environ, plan.options.lock_wait) as db:
        where = db.source.url.masked()
        others = other_sessions(db.connection)
        if others and not plan.options.allow_active_sessions:
            retry = report.goal(
                "db-restore", plan.selector, f"--backup={backup}", "--allow-active-sessions"
            )
            raise ProblemError(active_sessions(plan.component, where, others, retry))
        before = current_heads(db.connection, ini.version_table)
        print(f"{plan.component}: restoring {backup} into {where} ...", flush=True)
        restore(db.source.url, backup, plan.component)
        after = current_heads(db.connection, ini.version_table)
    print(
        "\n".join(
            [
                "",
                f"{report.SUCCESS} Restore successful",
                "",
                f"Component: {plan.component}",
                f"Backup: {backup}",
                f"Database: {where}",
                f"Revision: {report.describe_heads(before)} → {report.describe_heads(after)}",
                "",
                "Next steps:",
                f"- Check the state: {report.goal('db-status', plan.selector)}",
                "- Restart affected services if needed",
            ]
        ),
        flush=True,
    )
    outcome.before = before
    return outcome.finish("restored", after)

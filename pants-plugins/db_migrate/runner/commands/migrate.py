"""`db-migrate` inside the resolved environment: the component's database, locked, migrated as
the plan asks (`runner/migration/`); a dry run takes no lock and starts or creates nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from db_migrate.core.alembic_ini import AlembicIni, parse_alembic_ini
from db_migrate.core.contract import NEEDS_ENVIRONMENT, MigrateOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.runner.migration.database import locked_database
from db_migrate.runner.migration.dry_run import dry_run_without_database, what_a_real_run_does_first
from db_migrate.runner.migration.flow import migrate_locked, plainly_at_target
from db_migrate.runner.postgres import lock
from db_migrate.runner.postgres.connection import open_component_database


def run(plan: RunnerPlan[MigrateOptions], environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    if plan.options.dry_run:
        return _dry_run_unlocked(plan, ini, environ, outcome)
    with locked_database(plan, ini, environ, plan.options.lock_wait) as db:
        if plan.options.probe and not plainly_at_target(plan, ini, db.connection):
            outcome.status = NEEDS_ENVIRONMENT  # nothing read is kept: the real run reads again
            return outcome
        return migrate_locked(plan, ini, db, outcome)


def _dry_run_unlocked(
    plan: RunnerPlan[MigrateOptions], ini: AlembicIni, environ, outcome: Outcome
) -> Outcome:
    """A dry run changes nothing: no server started, no database created, no lock held, no
    ledger row; where a real run would start or create something, it says so."""
    try:
        db = open_component_database(plan, ini, environ, start_dev_server=False)
    except ProblemError as e:
        first = what_a_real_run_does_first(plan, ini, environ, e.problem)
        if not first:
            raise
        print("\n".join(first), flush=True)
        return dry_run_without_database(plan, outcome)
    with db.connection as conn:
        holder = lock.current_holder(conn, ini.version_table)
        if holder is not None:
            print(
                f"{plan.component}: another migration holds the lock now (pid {holder.pid},"
                f" {holder.application_name or 'unknown client'}); a real run would wait for it",
                flush=True,
            )
        return migrate_locked(plan, ini, db, outcome)

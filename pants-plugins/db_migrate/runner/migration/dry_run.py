"""`db-migrate --dry-run`: every check a real run makes and the plan it would follow, nothing
changed. On a database; on none yet (the development server a real run would start, or the
database it would create); and what a real run would start or create first."""

from __future__ import annotations

from typing import List, Mapping

from db_migrate.core import report
from db_migrate.core.alembic_ini import AlembicIni
from db_migrate.core.contract import MigrateOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem
from db_migrate.runner.migration.apply import backup_location
from db_migrate.runner.migration.move import Move
from db_migrate.runner.migration.planning import planned_steps
from db_migrate.runner.migration.rendering import as_step, heads_text, step_lines
from db_migrate.runner.migration.retry_policy import RetryPolicy
from db_migrate.runner.postgres.connection import ComponentDatabase
from db_migrate.runner.postgres.sessions import other_sessions
from db_migrate.runner.usercode import theirs_if_raised


def dry_run_on_database(
    plan: RunnerPlan[MigrateOptions],
    db: ComponentDatabase,
    session,
    move: Move,
    heads,
    steps,
    outcome: Outcome,
) -> Outcome:
    """The plan, how env.py runs it, who else is connected and the backup a downgrade takes."""
    facts = theirs_if_raised(plan, session.probe, "running env.py")
    lines = [
        f"{plan.component}: dry run of {move.direction} {move.shown} on {db.source.url.masked()}",
        f"Current revision: {heads_text(heads)}",
        f"Transactions: {facts.transaction_mode()}",
        RetryPolicy.of(plan.shared, plan.options.lock_retries).describe(facts.per_migration),
        *step_lines(move, steps),
    ]
    others = other_sessions(db.connection)
    if others:
        verdict = (
            "a downgrade is refused while they are connected"
            if move.direction == "downgrade"
            else "listed only"
        )
        lines.append(f"Other sessions on the database ({verdict}):")
        lines += [f"  - {s.describe()}" for s in others]
    if move.direction == "downgrade":
        lines.append(_backup_line(plan, heads, steps))
    lines.append("Nothing was changed (--dry-run).")
    print("\n".join(lines), flush=True)
    outcome.steps = tuple(as_step(s, 0.0) for s in steps)
    outcome.extra["transaction_per_migration"] = facts.per_migration
    outcome.extra["other_sessions"] = [s.describe() for s in others]
    return outcome.finish("dry-run", heads)


def _backup_line(plan: RunnerPlan[MigrateOptions], heads, steps) -> str:
    if plan.options.no_backup:
        return "Backup: none (--no-backup)"
    from db_migrate.runner.postgres.backup import backup_path

    folder, start, destination = backup_location(plan, heads, steps)
    where = backup_path(folder, plan.component, start, destination)
    return f"Backup: pg_dump --format=custom into {where} (verified with pg_restore --list)"


def dry_run_without_database(plan: RunnerPlan[MigrateOptions], outcome: Outcome) -> Outcome:
    """The plan from an empty database (what a just-created database would get)."""
    from db_migrate.runner.alembic_glue.steps import AlembicSession

    move = Move.of(plan.options)
    outcome.direction, outcome.target = move.direction, move.label
    session = theirs_if_raised(plan, lambda: AlembicSession(plan.config))
    steps = planned_steps(plan, session, move, ())
    if not steps:
        print(report.already_at(plan.component, move.target, report.BASE), flush=True)
        return outcome.finish("up-to-date", ())
    lines = [
        f"{plan.component}: dry run of {move.direction} {move.shown} on a new database",
        "Transactions: shown once the database exists (env.py says when it runs)",
        RetryPolicy.of(plan.shared, plan.options.lock_retries).describe(None),
        *step_lines(move, steps),
        "Nothing was changed (--dry-run).",
    ]
    print("\n".join(lines), flush=True)
    outcome.steps = tuple(as_step(s, 0.0) for s in steps)
    return outcome.finish("dry-run", ())


def what_a_real_run_does_first(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str], problem: Problem
) -> List[str]:
    """For the development server: the start and the create a real run would do (else none)."""
    from db_migrate.core.database_url import resolve_url
    from db_migrate.runner.postgres.dev_server import DevServerSettings

    source = resolve_url(plan.url_env, ini.url, environ, plan.component, plan.config)
    dev = DevServerSettings.of(plan.buildroot, plan.shared)
    reason = problem.details[0] if problem.details else ""
    if not dev.serves(source) or problem.kind != "cannot_connect":
        return []
    name = source.url.database
    if reason.startswith("Connection refused"):
        return [
            f"{plan.component}: the development PostgreSQL on {source.url.where} is not running:"
            f" a real run would start it (data in {dev.server(source.url).data_dir})",
            f"{plan.component}: and would create database '{name}' if it does not exist",
        ]
    if reason.startswith("Database '"):
        return [
            f"{plan.component}: a real run would create database '{name}' on the development server"
        ]
    return []

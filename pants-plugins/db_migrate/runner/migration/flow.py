"""One migration on a locked database: what db-migrate runs, and what db-create-migration (to
head before autogenerate) and db-rebase (off a branch and back on) run through it.

Order matters for safety: read the version table, check the database is in a state these scripts
know and that no applied file changed, bring the ledger up to date, plan with Alembic, check the
sessions and back up before a downgrade, and only then let Alembic run, on a connection we hand
env.py, with the transactions env.py asks for.
"""

from __future__ import annotations

from db_migrate.core import applied, report
from db_migrate.core.alembic_ini import AlembicIni
from db_migrate.core.contract import MigrateOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.runner.migration.applied import checked_heads, keep_ledger
from db_migrate.runner.migration.apply import apply_steps, backup_before, check_sessions
from db_migrate.runner.migration.database import hand_over
from db_migrate.runner.migration.dry_run import dry_run_on_database
from db_migrate.runner.migration.move import Move
from db_migrate.runner.migration.planning import planned_steps
from db_migrate.runner.migration.rendering import heads_text, result
from db_migrate.runner.postgres.connection import ComponentDatabase
from db_migrate.runner.tamper import ledger
from db_migrate.runner.usercode import theirs_if_raised


def migrate_locked(
    plan: RunnerPlan[MigrateOptions], ini: AlembicIni, db: ComponentDatabase, outcome: Outcome
) -> Outcome:
    """The move the plan asks for, on a database whose lock the caller holds."""
    move = Move.of(plan.options)
    outcome.direction, outcome.target = move.direction, move.label
    heads, found = checked_heads(plan, ini, db.connection, outcome)
    dry_run = plan.options.dry_run
    keeping = False if dry_run else keep_ledger(plan, ini, db.connection, found)
    if _answered_without_alembic(plan, move, heads, outcome):
        return outcome
    session = _session(plan, ini, db)
    steps = planned_steps(plan, session, move, heads)
    if not steps:
        print(report.already_at(plan.component, move.target, heads_text(heads)), flush=True)
        return outcome.finish("up-to-date", heads)
    if dry_run:
        return dry_run_on_database(plan, db, session, move, heads, steps, outcome)
    check_sessions(plan, db, move)
    backup_before(plan, db, move, heads, steps, outcome)
    book = ledger.Book(ini.version_table, keeping, {r.revision: r for r in plan.revisions})
    after = apply_steps(plan, ini, db, session, move, (heads, steps), book, outcome)
    print("", flush=True)
    print(result(plan, move, after, outcome).render(), flush=True)
    return outcome.finish("migrated", after)


def plainly_at_target(plan: RunnerPlan[MigrateOptions], ini: AlembicIni, conn) -> bool:
    """Whether `migrate_locked` answers this run from the version table alone, with nothing to
    say on the way: every row known, no applied file changed, the target reached. Reads only."""
    heads = applied.current_heads(conn, ini.version_table)
    move = Move.of(plan.options)
    if not applied.plainly_at(move.direction, move.target, heads, plan.revisions, plan.heads):
        return False
    rows = applied.recorded(conn, ini.version_table) or {}
    facts = {r.revision: r for r in plan.revisions}
    return not applied.audit(rows, applied.applied_revisions(plan.revisions, heads), facts).changed


def _answered_without_alembic(plan: RunnerPlan, move: Move, heads, outcome: Outcome) -> bool:
    """The common no-ops, answered without loading a single revision module."""
    if (
        move.direction == "upgrade"
        and move.target in ("head", "heads")
        and set(heads) == set(plan.heads)
    ):
        print(report.up_to_date(plan.component, heads_text(heads)), flush=True)
        outcome.finish("up-to-date", heads)
        return True
    if move.direction == "downgrade" and move.target == "base" and not heads:
        print(report.already_at(plan.component, "base", report.BASE), flush=True)
        outcome.finish("up-to-date", heads)
        return True
    return False


def _session(plan: RunnerPlan, ini: AlembicIni, db: ComponentDatabase):
    """The component's Alembic scripts, loaded; env.py will be handed our database."""
    from db_migrate.runner.alembic_glue.steps import AlembicSession

    handed = hand_over(plan, ini, db)
    return theirs_if_raised(plan, lambda: AlembicSession(plan.config, handed))

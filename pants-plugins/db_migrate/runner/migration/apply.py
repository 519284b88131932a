"""The part of a migration that changes the database: the sessions check and the backup before a
downgrade, then Alembic's steps with live progress, and on failure what stayed (read back)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Tuple

from db_migrate.core import report
from db_migrate.core.alembic_ini import AlembicIni
from db_migrate.core.applied import current_heads
from db_migrate.core.contract import MigrateOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.runner.faults.scene import step_scene
from db_migrate.runner.live import LiveOutput
from db_migrate.runner.migration.database import diagnosed
from db_migrate.runner.migration.lock_retries import LockRetries, LockWaitGaveUp
from db_migrate.runner.migration.move import Move, continuing_target, retry_command
from db_migrate.runner.migration.problems import failure_problem, in_one_transaction
from db_migrate.runner.migration.rendering import as_step, heads_text, partial_summary
from db_migrate.runner.migration.retry_policy import RetryPolicy
from db_migrate.runner.postgres.connection import ComponentDatabase
from db_migrate.runner.postgres.lock_waits import LockWaitWatch
from db_migrate.runner.postgres.sessions import active_sessions, other_sessions
from db_migrate.runner.usercode import theirs_if_raised


def backup_location(plan: RunnerPlan, heads, steps) -> Tuple[Path, str, str]:
    """(folder, from, to) of the backup before a downgrade of `steps` from `heads`."""
    folder = Path(plan.shared.backup_dir or Path(plan.buildroot) / ".db-backups")
    return folder, "+".join(heads) or "base", "+".join(steps[-1].new) or "base"


def check_sessions(plan: RunnerPlan[MigrateOptions], db: ComponentDatabase, move: Move) -> None:
    """Refuse a downgrade while other sessions are connected; list them for an upgrade."""
    others = other_sessions(db.connection)
    if not others:
        return
    if move.direction == "downgrade" and not plan.options.allow_active_sessions:
        retry = retry_command(plan, "--allow-active-sessions")
        raise ProblemError(active_sessions(plan.component, db.source.url.masked(), others, retry))
    print(
        f"{report.WARNING} Warning: {plan.component}: {len(others)} other session(s) on the database:",
        flush=True,
    )
    for session in others:
        print(f"  - {session.describe()}", flush=True)


def backup_before(
    plan: RunnerPlan[MigrateOptions], db: ComponentDatabase, move: Move, heads, steps, outcome
) -> None:
    """A verified pg_dump before a downgrade (unless --no-backup), recorded in the outcome."""
    if move.direction != "downgrade":
        return
    if plan.options.no_backup:
        print(f"{plan.component}: --no-backup given: downgrading without a backup", flush=True)
        return
    from db_migrate.runner.postgres.backup import take_backup

    folder, start, destination = backup_location(plan, heads, steps)
    where = db.source.url.masked()
    print(f"{plan.component}: backing up {where} before the downgrade ...", flush=True)
    outcome.backup = take_backup(
        db.source.url,
        folder,
        (plan.component, start, destination),
        plan.selector,
        plan.buildroot,
        retry=retry_command(plan),
        network_timeout=db.network_timeout,
    )
    print(
        f"{plan.component}: backup verified ({outcome.backup.size} bytes): {outcome.backup.path}",
        flush=True,
    )


def apply_steps(
    plan: RunnerPlan,
    ini: AlembicIni,
    db: ComponentDatabase,
    session,
    move: Move,
    planned,
    book,
    outcome: Outcome,
) -> Tuple[str, ...]:
    """Run the steps; on failure, say what was kept or rolled back (checked on the database)."""
    from db_migrate.runner.alembic_glue.steps import StepFailed

    heads, steps = planned
    n = len(steps)
    print(
        f"{plan.component}: {move.direction} {move.target} on {db.source.url.masked()} "
        f"({n} revision{'s' if n != 1 else ''}, from {heads_text(heads)})",
        flush=True,
    )
    started = time.perf_counter()
    try:
        with LiveOutput() as live:
            retries = _lock_retries(plan, ini, db, session, move, live)
            done = theirs_if_raised(
                plan,
                lambda: retries.run(
                    lambda target: _run_steps(session, move, live, book, target), move.target, steps
                ),
                "running env.py",
            )
    except LockWaitGaveUp as gave_up:  # every lock timeout of a step: retried, then told here
        _gave_up(move, gave_up, retries, outcome)
        raise
    except StepFailed as failure:  # a revision's own error, or a fault of the server
        outcome.steps = tuple(as_step(d.step, d.seconds) for d in failure.done)
        raise ProblemError(_failed(plan, ini, db, move, planned, failure, outcome)) from None
    outcome.seconds = time.perf_counter() - started
    outcome.steps = tuple(as_step(d.step, d.seconds) for d in done)
    if retries.waits:
        outcome.extra["lock_waits"] = retries.waits
    return current_heads(db.connection, ini.version_table)


def _lock_retries(plan, ini: AlembicIni, db: ComponentDatabase, session, move: Move, live):
    """How this run retries a revision that times out waiting for a lock, and says so: every
    lock timeout of a step goes through it (the faults' `lock_timeout` block is for one outside
    a step)."""
    policy = RetryPolicy.of(plan.shared, plan.options.lock_retries)
    # Often enough to see a wait of one lock_timeout; no faster than needed without one.
    timeout = policy.timeout_seconds
    interval = min(0.25, max(0.05, timeout / 5)) if timeout > 0 else 0.25
    return LockRetries(
        policy,
        plan.component,
        read_heads=lambda: current_heads(db.connection, ini.version_table),
        watch=lambda: LockWaitWatch(db.connection, lambda: session.migration_pid, interval),
        say=live.line,
        retry_command=lambda target: retry_command(plan, target=target or ""),
    )


def _gave_up(move: Move, gave_up: LockWaitGaveUp, retries: LockRetries, outcome: Outcome) -> None:
    """A lock that never came: what committed before it, and every wait, in the outcome."""
    outcome.steps = tuple(as_step(d.step, d.seconds) for d in gave_up.done)
    outcome.extra["lock_waits"] = retries.waits
    outcome.finish("failed", gave_up.after)
    if gave_up.done:
        print(partial_summary(move, gave_up.done), flush=True)


def _failed(plan, ini: AlembicIni, db: ComponentDatabase, move: Move, planned, failure, outcome):
    """The failed revision's block: a fault of the server or the network told as one (the state
    read back, or said to be unknown), else the revision's own error; what stays is checked."""
    heads, steps = planned
    # Where the database is now is not known yet: a relative target is given as the revision it meant.
    goal = continuing_target(move.label, steps) or ""
    scene = step_scene(plan, db, failure, heads, retry_command(plan, target=goal))
    told = diagnosed(ini, db, failure.error, scene)
    _tell_progress(move, failure)
    if told is not None:
        outcome.finish("failed", told.state.heads or ())
        outcome.extra["database_state"] = "read back" if told.state.known else "unknown"
        return told.problem
    after = current_heads(db.connection, ini.version_table)
    outcome.finish("failed", after)
    return failure_problem(plan, heads, after, failure)


def _tell_progress(move: Move, failure) -> None:
    """The failed revision's line, and what committed before it (one transaction per revision)."""
    print(f"  ✗ {failure.step.revision} failed", flush=True)
    if failure.done and not in_one_transaction(failure):
        print(partial_summary(move, failure.done), flush=True)


def _run_steps(session, move: Move, live: LiveOutput, book, target: str) -> List:
    def on_start(step) -> None:
        live.line(f"  ▶ {heads_text(step.old)} → {heads_text(step.new)}: {step.message}")

    def on_end(done) -> None:
        verb = "applied" if done.step.is_upgrade else "reverted"
        when = "" if session.per_migration else " (commits with the run)"
        live.line(f"  ✓ {done.step.revision} {verb} in {report.duration(done.seconds)}{when}")

    return session.run(move.direction, target, on_start, on_end, on_applied=book.note)

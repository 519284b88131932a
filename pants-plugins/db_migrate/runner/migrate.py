"""`db-migrate` inside the resolved environment: pre-flight against the live database, then Alembic.

Order matters for safety: connect (bounded by a timeout), take the advisory lock, read the version
table, check the database is in a state these scripts know, back up before a downgrade, and only
then let Alembic run, one transaction per revision.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence, Tuple

from db_migrate import report
from db_migrate.alembic_ini import parse_alembic_ini
from db_migrate.plan import RunnerPlan
from db_migrate.report import MigrationResult, Problem, ProblemError, Step
from db_migrate.runner import ledger, lock
from db_migrate.runner.connection import open_component_database
from db_migrate.runner.live import LiveOutput
from db_migrate.runner.outcome import Outcome
from db_migrate.runner.versions import current_heads

FOREIGN_KEY_VIOLATION = "23503"


def _heads_text(heads: Sequence[str]) -> str:
    return report.describe_heads(heads)


def ahead_of_code(plan: RunnerPlan, unknown: Sequence[str], heads: Sequence[str]) -> Problem:
    return Problem(
        title="Database is ahead of this code",
        details=(
            f"{plan.component}'s database is at {', '.join(unknown)}, which no revision file here defines",
            f"Database revisions: {_heads_text(heads)}; heads of these scripts: {_heads_text(plan.heads)}",
            "It was migrated by newer code, or by another branch.",
        ),
        actions=(
            "Pull the latest code (git pull) or check out the branch that migrated this database",
            f"Check the state: {report.goal('db-status', plan.selector)}",
            "Point the component at another database if this one belongs to someone else",
        ),
        kind="database_ahead",
    )


def wrong_direction(plan: RunnerPlan, direction: str, target: str, heads: Sequence[str]) -> Problem:
    other = "downgrade" if direction == "upgrade" else "upgrade"
    relation = "below" if direction == "upgrade" else "above"
    return Problem(
        title=f"Cannot {direction} to {target}",
        details=(
            f"{target} is {relation} {plan.component}'s current revision ({_heads_text(heads)}):"
            f" {direction} cannot reach it",
            f"Did you mean --direction={other}?",
        ),
        actions=(
            f"To go there: {report.goal('db-migrate', plan.selector, f'--direction={other}', f'--target={target}')}",
            f"Check the state: {report.goal('db-status', plan.selector)}",
        ),
        kind="wrong_direction",
    )


def unreachable(
    plan: RunnerPlan, direction: str, target: str, heads: Sequence[str], why: str
) -> Problem:
    return Problem(
        title=f"Cannot {direction} to {target}",
        details=(f"From {_heads_text(heads)}: {why}",),
        actions=(
            f"Check current and head revisions: {report.goal('db-status', plan.selector)}",
            "Pick a target on the path between them (a revision id, head, base, +N or -N)",
        ),
        kind="unreachable_target",
    )


def _db_error_text(error: BaseException) -> str:
    cause = error
    while getattr(cause, "orig", None) is not None:  # SQLAlchemy wraps the driver error
        cause = cause.orig
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


def _sqlstate(error: BaseException) -> Optional[str]:
    cause = error
    while getattr(cause, "orig", None) is not None:
        cause = cause.orig
    return getattr(cause, "sqlstate", None)


def run(plan: RunnerPlan, environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    direction = plan.option("direction", "upgrade")
    target = plan.option("target", "head")
    label = plan.option("target_label") or target
    outcome.direction, outcome.target = direction, label
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())

    db = open_component_database(plan, ini, environ)
    with db.connection as conn:
        lock.acquire(conn, plan.component, ini.version_table, float(plan.option("lock_wait", 60)))
        heads = current_heads(conn, ini.version_table)
        outcome.before = heads
        known = {r.revision for r in plan.revisions}
        unknown = [h for h in heads if h not in known]
        if unknown:
            raise ProblemError(ahead_of_code(plan, unknown, heads))
        checksums = {r.revision: r.checksum for r in plan.revisions}
        paths = {r.revision: r.path for r in plan.revisions}
        recorded = ledger.recorded(conn, ini.version_table)
        changed = ledger.changed_revisions(recorded, sorted(recorded), checksums, paths)
        if changed:
            problem = ledger.changed_problem(plan.component, plan.selector, changed)
            if not plan.option("allow_changed", False):
                raise ProblemError(problem)
            print(
                f"{report.WARNING} Warning (--allow-changed): " + "\n".join(problem.details),
                flush=True,
            )
            outcome.extra["changed_revisions"] = [c.revision for c in changed]

        # The common no-op answers without loading a single revision module.
        if direction == "upgrade" and target in ("head", "heads") and set(heads) == set(plan.heads):
            print(report.up_to_date(plan.component, _heads_text(heads)), flush=True)
            return outcome.finish("up-to-date", heads)
        if direction == "downgrade" and target == "base" and not heads:
            print(report.already_at(plan.component, "base", report.BASE), flush=True)
            return outcome.finish("up-to-date", heads)

        from db_migrate.runner.alembic_steps import (
            AlembicSession,
            PlanError,
            RevisionLoadError,
            StepFailed,
        )

        session = AlembicSession(plan.config)
        try:
            steps = session.plan(direction, target, heads)
        except RevisionLoadError as e:
            raise ProblemError(
                report.revision_file_problem(os.path.relpath(e.path), e.line, e.message)
            ) from None
        except PlanError as e:
            if _reachable_the_other_way(session, direction, target, heads):
                raise ProblemError(wrong_direction(plan, direction, target, heads)) from None
            raise ProblemError(
                unreachable(
                    plan,
                    direction,
                    target,
                    heads,
                    _why_unreachable(session, direction, target, heads, e),
                )
            ) from None
        if not steps:
            if _reachable_the_other_way(session, direction, target, heads):
                raise ProblemError(wrong_direction(plan, direction, target, heads))
            print(report.already_at(plan.component, target, _heads_text(heads)), flush=True)
            return outcome.finish("up-to-date", heads)

        if plan.option("dry_run", False):
            shown = label if label == target else f"{label} ({target})"
            print(
                _dry_run_text(plan, db.source.url.masked(), direction, shown, heads, steps),
                flush=True,
            )
            outcome.steps = tuple(_as_step(s, 0.0) for s in steps)
            return outcome.finish("dry-run", heads)

        if direction == "downgrade" and not plan.option("no_backup", False):
            from db_migrate.runner.backup import take_backup

            destination = steps[-1].new
            print(
                f"{plan.component}: backing up {db.source.url.masked()} before the downgrade ...",
                flush=True,
            )
            outcome.backup = take_backup(
                db.source.url,
                Path(plan.option("backup_dir") or Path(plan.buildroot) / ".db-backups"),
                plan.component,
                "+".join(heads) or "base",
                "+".join(destination) or "base",
            )
            print(
                f"{plan.component}: backup verified ({outcome.backup.size} bytes): {outcome.backup.path}",
                flush=True,
            )
        elif direction == "downgrade":
            print(f"{plan.component}: --no-backup given: downgrading without a backup", flush=True)

        print(
            f"{plan.component}: {direction} {target} on {db.source.url.masked()} "
            f"({len(steps)} revision{'s' if len(steps) != 1 else ''}, from {_heads_text(heads)})",
            flush=True,
        )
        os.environ.update(db.alembic_environ(plan))

        live = LiveOutput()

        def on_start(step) -> None:
            live.line(f"  ▶ {_heads_text(step.old)} → {_heads_text(step.new)}: {step.message}")

        def on_end(done) -> None:
            verb = "applied" if done.step.is_upgrade else "reverted"
            live.line(f"  ✓ {done.step.revision} {verb} in {report.duration(done.seconds)}")

        started = time.perf_counter()
        book = ledger.Ledger(ini.version_table, checksums, paths)
        try:
            with live:
                done = session.run(direction, target, on_start, on_end, on_applied=book.note)
        except StepFailed as failure:
            outcome.steps = tuple(_as_step(d.step, d.seconds) for d in failure.done)
            after = current_heads(conn, ini.version_table)
            book.write(conn, session.applied(after))
            print(f"  ✗ {failure.step.revision} failed", flush=True)
            if failure.done:
                print(_partial_summary(plan, direction, failure.done), flush=True)
            path = os.path.relpath(failure.step.path)
            error_text = _db_error_text(failure.error)
            if _sqlstate(failure.error) == FOREIGN_KEY_VIOLATION:
                problem = report.foreign_key_violation(
                    plan.component, plan.selector, failure.step.revision, path, error_text
                )
            else:
                problem = report.revision_failed(
                    plan.component, plan.selector, failure.step.revision, path, error_text
                )
            outcome.finish("failed", after)
            raise ProblemError(problem) from None
        outcome.seconds = time.perf_counter() - started
        outcome.steps = tuple(_as_step(d.step, d.seconds) for d in done)
        after = current_heads(conn, ini.version_table)
        book.write(conn, session.applied(after))

    status = _new_status(after, plan.heads)
    result = MigrationResult(
        component=plan.component,
        direction=direction,
        target=label if label == target else f"{label} ({target})",
        steps=outcome.steps,
        new_status=status,
        backup=str(outcome.backup.path) if outcome.backup else None,
        restore_command=outcome.backup.restore_command if outcome.backup else None,
    )
    print("", flush=True)
    print(result.render(), flush=True)
    return outcome.finish("migrated", after)


def _why_unreachable(session, direction: str, target: str, heads, error: Exception) -> str:
    """Alembic's reason, or for a relative step too far, how far there is to go."""
    from db_migrate.runner.alembic_steps import PlanError

    m = re.fullmatch(r"([+-])(\d+)", target)
    if m and (m.group(1) == "-") == (direction == "downgrade"):
        end = "base" if direction == "downgrade" else "heads"
        try:
            available = len(session.plan(direction, end, heads))
        except PlanError:
            return str(error)
        if int(m.group(2)) > available:
            where = "above base" if direction == "downgrade" else "below the head"
            return f"the database is only {available} revision(s) {where}; {target} goes past it"
    return str(error)


def _reachable_the_other_way(session, direction: str, target: str, heads) -> bool:
    """Whether the opposite direction would move towards `target` (the user mixed them up)."""
    from db_migrate.runner.alembic_steps import PlanError

    other = "downgrade" if direction == "upgrade" else "upgrade"
    try:
        return bool(session.plan(other, target, heads))
    except PlanError:
        return False


def _dry_run_text(plan: RunnerPlan, where: str, direction: str, target: str, heads, steps) -> str:
    lines = [
        f"{plan.component}: dry run of {direction} {target} on {where}",
        f"Current revision: {_heads_text(heads)}",
        f"Would {'apply' if direction == 'upgrade' else 'revert'} {len(steps)} revision{'s' if len(steps) != 1 else ''}, in this order:",
    ]
    for i, step in enumerate(steps, 1):
        lines.append(
            f"  {i}. {_heads_text(step.old)} → {_heads_text(step.new)}: {step.message} ({os.path.relpath(step.path)})"
        )
    if direction == "downgrade":
        if plan.option("no_backup", False):
            lines.append("Backup: none (--no-backup)")
        else:
            from db_migrate.runner.backup import backup_path

            where_to = backup_path(
                Path(plan.option("backup_dir") or Path(plan.buildroot) / ".db-backups"),
                plan.component,
                "+".join(heads) or "base",
                "+".join(steps[-1].new) or "base",
            )
            lines.append(
                f"Backup: pg_dump --format=custom into {where_to} (verified with pg_restore --list)"
            )
    lines.append("Nothing was changed (--dry-run).")
    return "\n".join(lines)


def _as_step(step, seconds: float) -> Step:
    return Step(
        old=_heads_text(step.old),
        new=_heads_text(step.new),
        message=step.message,
        seconds=seconds,
        revision=step.revision,
    )


def _partial_summary(plan: RunnerPlan, direction: str, done) -> str:
    verb = "Applied" if direction == "upgrade" else "Reverted"
    lines = [f"{verb} before the failure (committed):"]
    lines += [
        f"  - {_heads_text(d.step.old)} → {_heads_text(d.step.new)}: {d.step.message}" for d in done
    ]
    return "\n".join(lines)


def _new_status(after: Tuple[str, ...], script_heads: Sequence[str]) -> str:
    if set(after) == set(script_heads):
        return "Database is up-to-date"
    if not after:
        return "Database at base (no revision applied)"
    return f"Database at revision {_heads_text(after)}"

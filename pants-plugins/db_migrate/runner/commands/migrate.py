"""`db-migrate` inside the resolved environment: pre-flight against the live database, then Alembic.

Order matters for safety: connect (bounded by a timeout), take the advisory lock, read the version
table, check the database is in a state these scripts know, back up before a downgrade, and only
then let Alembic run, on a connection we hand env.py, with the transactions env.py asks for.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Mapping, Optional, Sequence, Tuple

from db_migrate.core import report
from db_migrate.core.alembic_ini import AlembicIni, parse_alembic_ini
from db_migrate.core.contract import RunnerPlan
from db_migrate.core.report import MigrationResult, Problem, ProblemError, Step
from db_migrate.runner.live import LiveOutput
from db_migrate.runner.migration.lock_retries import LockWaitGaveUp
from db_migrate.runner.migration.retry_policy import RetryPolicy
from db_migrate.runner.outcome import Outcome
from db_migrate.runner.postgres import errors as db_errors
from db_migrate.runner.postgres import lock
from db_migrate.runner.postgres.connection import ComponentDatabase, open_component_database
from db_migrate.runner.postgres.errors import root_cause, sqlstate
from db_migrate.runner.postgres.sessions import active_sessions, other_sessions
from db_migrate.runner.postgres.version_table import current_heads
from db_migrate.runner.tamper import ledger, released
from db_migrate.runner.usercode import error_line, user_code_problem, user_frames

FOREIGN_KEY_VIOLATION = "23503"


def _heads_text(heads: Sequence[str]) -> str:
    return report.describe_heads(heads)


@dataclass(frozen=True)
class Move:
    """What the user asked for: a direction, a resolved target and how they spelled it."""

    direction: str
    target: str
    label: str

    @classmethod
    def from_plan(cls, plan: RunnerPlan) -> Move:
        target = plan.option("target", "head")
        return cls(
            plan.option("direction", "upgrade"), target, plan.option("target_label") or target
        )

    @property
    def shown(self) -> str:
        return self.label if self.label == self.target else f"{self.label} ({self.target})"


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


def wrong_direction(plan: RunnerPlan, move: Move, heads: Sequence[str]) -> Problem:
    other = "downgrade" if move.direction == "upgrade" else "upgrade"
    relation = "below" if move.direction == "upgrade" else "above"
    return Problem(
        title=f"Cannot {move.direction} to {move.target}",
        details=(
            f"{move.target} is {relation} {plan.component}'s current revision ({_heads_text(heads)}):"
            f" {move.direction} cannot reach it",
            f"Did you mean --direction={other}?",
        ),
        actions=(
            f"To go there: {report.goal('db-migrate', plan.selector, f'--direction={other}', f'--target={move.target}')}",
            f"Check the state: {report.goal('db-status', plan.selector)}",
        ),
        kind="wrong_direction",
    )


def unreachable(plan: RunnerPlan, move: Move, heads: Sequence[str], why: str) -> Problem:
    return Problem(
        title=f"Cannot {move.direction} to {move.target}",
        details=(f"From {_heads_text(heads)}: {why}",),
        actions=(
            f"Check current and head revisions: {report.goal('db-status', plan.selector)}",
            "Pick a target on the path between them (a revision id, head, base, +N or -N)",
        ),
        kind="unreachable_target",
    )


def db_error_text(error: BaseException) -> str:
    """The database's own first line, masked; for an error that is no database's, `Type: message`."""
    if sqlstate(error) is None and root_cause(error) is error:
        return error_line(error)
    return report.mask(db_errors.db_error_text(error))


@contextlib.contextmanager
def locked_database(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str]
) -> Iterator[ComponentDatabase]:
    """The component's database with the migration lock held until the block ends: one lock
    for a whole operation (a rebase's downgrade, edit and re-upgrade; autogenerate's compare)."""
    db = open_component_database(plan, ini, environ)
    with db.connection as conn:
        lock.acquire(conn, plan.component, ini.version_table, float(plan.option("lock_wait", 60)))
        yield db


def run(plan: RunnerPlan, environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    if plan.option("dry_run", False):
        return _dry_run_unlocked(plan, ini, environ, outcome)
    with locked_database(plan, ini, environ) as db:
        return migrate_locked(plan, ini, db, outcome)


def _dry_run_unlocked(plan: RunnerPlan, ini: AlembicIni, environ, outcome: Outcome) -> Outcome:
    """A dry run changes nothing: no server started, no database created, no lock held, no
    ledger row; where a real run would start or create something, it says so."""
    try:
        db = open_component_database(plan, ini, environ, start_dev_server=False)
    except ProblemError as e:
        first = _what_a_real_run_does_first(plan, ini, environ, e.problem)
        if not first:
            raise
        print("\n".join(first), flush=True)
        return _dry_run_without_database(plan, outcome)
    with db.connection as conn:
        holder = lock.current_holder(conn, ini.version_table)
        if holder is not None:
            print(
                f"{plan.component}: another migration holds the lock now (pid {holder.pid},"
                f" {holder.application_name or 'unknown client'}); a real run would wait for it",
                flush=True,
            )
        return migrate_locked(plan, ini, db, outcome)


def _what_a_real_run_does_first(plan: RunnerPlan, ini: AlembicIni, environ, problem) -> List[str]:
    """For the development server: the start and the create a real run would do (else none)."""
    from db_migrate.runner.postgres.database import resolve_url
    from db_migrate.runner.postgres.dev_server import DevServerSettings

    source = resolve_url(plan.url_env, ini.url, environ, plan.component, plan.config)
    dev = DevServerSettings.from_options(plan.buildroot, plan.options)
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


def _dry_run_without_database(plan: RunnerPlan, outcome: Outcome) -> Outcome:
    """The plan from an empty database (what a just-created database would get)."""
    from db_migrate.runner.alembic_glue.steps import AlembicSession

    move = Move.from_plan(plan)
    outcome.direction, outcome.target = move.direction, move.label
    session = theirs_if_raised(plan, lambda: AlembicSession(plan.config))
    steps = _planned_steps(plan, session, move, ())
    if not steps:
        print(report.already_at(plan.component, move.target, report.BASE), flush=True)
        return outcome.finish("up-to-date", ())
    lines = [
        f"{plan.component}: dry run of {move.direction} {move.shown} on a new database",
        "Transactions: shown once the database exists (env.py says when it runs)",
        RetryPolicy.of(plan).describe(None),
        *_step_lines(move, steps),
        "Nothing was changed (--dry-run).",
    ]
    print("\n".join(lines), flush=True)
    outcome.steps = tuple(_as_step(s, 0.0) for s in steps)
    return outcome.finish("dry-run", ())


def migrate_locked(
    plan: RunnerPlan, ini: AlembicIni, db: ComponentDatabase, outcome: Outcome
) -> Outcome:
    """The move the plan asks for, on a database whose lock the caller holds."""
    move = Move.from_plan(plan)
    outcome.direction, outcome.target = move.direction, move.label
    heads, found = _checked_heads(plan, ini, db.connection, outcome)
    dry_run = bool(plan.option("dry_run", False))
    keeping = False if dry_run else _keep_ledger(plan, ini, db.connection, found)
    if _answered_without_alembic(plan, move, heads, outcome):
        return outcome
    session = _session(plan, ini, db)
    steps = _planned_steps(plan, session, move, heads)
    if not steps:
        print(report.already_at(plan.component, move.target, _heads_text(heads)), flush=True)
        return outcome.finish("up-to-date", heads)
    if dry_run:
        return _dry_run(plan, db, session, move, heads, steps, outcome)
    _check_sessions(plan, db, move)
    _backup_before(plan, db, move, heads, steps, outcome)
    after = _apply(
        plan,
        ini,
        db,
        session,
        move,
        (heads, steps),
        ledger.Book(ini.version_table, keeping, {r.revision: r for r in plan.revisions}),
        outcome,
    )
    print("", flush=True)
    print(_result(plan, move, after, outcome).render(), flush=True)
    return outcome.finish("migrated", after)


def _checked_heads(plan: RunnerPlan, ini: AlembicIni, conn, outcome: Outcome):
    """(the version table's rows, the ledger's audit): refused when these scripts do not know
    the rows, or when an applied revision's file was edited since it ran."""
    heads = current_heads(conn, ini.version_table)
    outcome.before = heads
    known = {r.revision for r in plan.revisions}
    unknown = [h for h in heads if h not in known]
    if unknown:
        raise ProblemError(ahead_of_code(plan, unknown, heads))
    facts = {r.revision: r for r in plan.revisions}
    rows = ledger.recorded(conn, ini.version_table) or {}
    found = ledger.audit(rows, ledger.applied_revisions(plan.revisions, heads), facts)
    if found.changed:
        _judge_changed(plan, found.changed, outcome)
    return heads, found


def _judge_changed(plan: RunnerPlan, changed, outcome: Outcome) -> None:
    """Edited since applied: your own unreleased revisions are a warning (the downgrade runs the
    file as it is now), released ones an error unless --allow-changed."""
    known = released.releases(plan, [c.path for c in changed])
    why = {c.revision: known.released_because(c.revision, c.path) for c in changed}
    mine = [c for c in changed if not why[c.revision]]
    shipped = [c for c in changed if why[c.revision]]
    outcome.extra["changed_revisions"] = [c.revision for c in changed]
    outcome.extra["unreleased_changed"] = [c.revision for c in mine]
    if known.note():
        print(f"{plan.component}: {known.note()}", flush=True)
    if mine:
        rerun = released.rerun_command(plan, [c.revision for c in mine])
        print(
            ledger.work_in_progress(plan.component, mine, known.unreleased_means(), rerun),
            flush=True,
        )
    if not shipped:
        return
    reasons = {c.revision: why[c.revision] for c in shipped}
    accept = report.goal(
        "db-migrate", plan.selector, "--accept-changed", '--reason="<why the edit is harmless>"'
    )
    problem = ledger.changed_problem(
        plan.component, shipped, _retry(plan, "--allow-changed"), reasons, accept
    )
    if not plan.option("allow_changed", False):
        raise ProblemError(problem)
    print(
        f"{report.WARNING} Warning (--allow-changed): " + "\n".join(problem.details),
        flush=True,
    )


def _retry(plan: RunnerPlan, *extra: str) -> str:
    """The command the user ran, with their own options, plus `extra`."""
    flags = []
    if plan.option("direction", "upgrade") != "upgrade":
        flags.append(f"--direction={plan.option('direction')}")
    label = plan.option("target_label")
    if label and label != "head":
        flags.append(f"--target={label}")
    flags += [f for f in plan.option("user_flags", ()) if f not in flags]
    return report.goal("db-migrate", plan.selector, *flags, *extra)


def _keep_ledger(plan: RunnerPlan, ini: AlembicIni, conn, found: ledger.Audit) -> bool:
    """Make the ledger match the database before anything runs; False: tamper detection off."""
    why_not = ledger.ensure(conn, ini.version_table)
    if why_not:
        print(
            f"{report.WARNING} Warning: {plan.component}: tamper detection is off ({report.mask(why_not)});"
            " migrations run as usual, checksums are not recorded",
            flush=True,
        )
        return False
    facts = {r.revision: r for r in plan.revisions}
    ledger.reconcile(conn, ini.version_table, found, facts)
    if found.unrecorded:
        n = len(found.unrecorded)
        print(
            f"{plan.component}: recorded checksums for {n} revision{'s' if n != 1 else ''}"
            " applied outside pants",
            flush=True,
        )
    return True


def _answered_without_alembic(plan: RunnerPlan, move: Move, heads, outcome: Outcome) -> bool:
    """The common no-ops, answered without loading a single revision module."""
    if (
        move.direction == "upgrade"
        and move.target in ("head", "heads")
        and set(heads) == set(plan.heads)
    ):
        print(report.up_to_date(plan.component, _heads_text(heads)), flush=True)
        outcome.finish("up-to-date", heads)
        return True
    if move.direction == "downgrade" and move.target == "base" and not heads:
        print(report.already_at(plan.component, "base", report.BASE), flush=True)
        outcome.finish("up-to-date", heads)
        return True
    return False


def hand_over(plan: RunnerPlan, ini: AlembicIni, db: ComponentDatabase):
    """What env.py is handed: our database, with the component's timeouts."""
    from db_migrate.runner.alembic_glue.env_watch import HandOver

    os.environ.update(db.alembic_environ(plan))  # for an env.py that connects itself
    return HandOver(
        source=db.source,
        options=db.migration_options(plan),
        component=plan.component,
        selector=plan.selector,
        config=plan.config,
        version_table=ini.version_table,
        connect_timeout=float(plan.option("connect_timeout", 5)),
    )


def _session(plan: RunnerPlan, ini: AlembicIni, db: ComponentDatabase):
    """The component's Alembic scripts, loaded; env.py will be handed our database."""
    from db_migrate.runner.alembic_glue.steps import AlembicSession

    handed = hand_over(plan, ini, db)
    return theirs_if_raised(plan, lambda: AlembicSession(plan.config, handed))


def theirs_if_raised(plan: RunnerPlan, action, doing: str = "loading its Alembic scripts"):
    """Run `action`; an exception from the user's code (env.py, models, revisions) is theirs."""
    from db_migrate.runner.alembic_glue.steps import RevisionLoadError

    try:
        return action()
    except ProblemError:
        raise
    except RevisionLoadError as e:
        raise ProblemError(report.revision_file_problem(e.path, e.line, e.message)) from None
    except Exception as e:  # noqa: BLE001 - attributed below, or re-raised as ours
        frames = user_frames(e)
        revisions = {r.path for r in plan.revisions}
        if isinstance(e, SyntaxError) and frames and frames[-1].path in revisions:
            problem = report.revision_file_problem(frames[-1].path, frames[-1].line, error_line(e))
        else:
            problem = user_code_problem(
                e, plan.component, f"pants db-migrate --dry-run {plan.selector}", doing
            )
        if problem is None:
            raise
        raise ProblemError(problem) from None


def _planned_steps(plan: RunnerPlan, session, move: Move, heads) -> list:
    from db_migrate.runner.alembic_glue.steps import PlanError

    try:
        steps = theirs_if_raised(plan, lambda: session.plan(move.direction, move.target, heads))
    except PlanError as e:
        if _reachable_the_other_way(session, move, heads):
            raise ProblemError(wrong_direction(plan, move, heads)) from None
        why = _why_unreachable(session, move, heads, e)
        raise ProblemError(unreachable(plan, move, heads, why)) from None
    if not steps and _reachable_the_other_way(session, move, heads):
        raise ProblemError(wrong_direction(plan, move, heads))
    return steps


def _why_unreachable(session, move: Move, heads, error: Exception) -> str:
    """Alembic's reason, or for a relative step too far, how far there is to go."""
    from db_migrate.runner.alembic_glue.steps import PlanError

    m = re.fullmatch(r"([+-])(\d+)", move.target)
    if m and (m.group(1) == "-") == (move.direction == "downgrade"):
        end = "base" if move.direction == "downgrade" else "heads"
        try:
            available = len(session.plan(move.direction, end, heads))
        except PlanError:
            return str(error)
        if int(m.group(2)) > available:
            where = "above base" if move.direction == "downgrade" else "below the head"
            return (
                f"the database is only {available} revision(s) {where}; {move.target} goes past it"
            )
    return str(error)


def _reachable_the_other_way(session, move: Move, heads) -> bool:
    """Whether the opposite direction would move towards the target (the user mixed them up)."""
    from db_migrate.runner.alembic_glue.steps import PlanError

    other = "downgrade" if move.direction == "upgrade" else "upgrade"
    try:
        return bool(session.plan(other, move.target, heads))
    except PlanError:
        return False


def _backup_path(plan: RunnerPlan, heads, steps) -> Tuple[Path, str, str]:
    folder = Path(plan.option("backup_dir") or Path(plan.buildroot) / ".db-backups")
    return folder, "+".join(heads) or "base", "+".join(steps[-1].new) or "base"


def _step_lines(move: Move, steps) -> List[str]:
    n = len(steps)
    lines = [
        f"Would {'apply' if move.direction == 'upgrade' else 'revert'} {n} "
        f"revision{'s' if n != 1 else ''}, in this order:"
    ]
    for i, step in enumerate(steps, 1):
        lines.append(
            f"  {i}. {_heads_text(step.old)} → {_heads_text(step.new)}: {step.message}"
            f" ({os.path.relpath(step.path)})"
        )
    return lines


def _dry_run(plan: RunnerPlan, db, session, move: Move, heads, steps, outcome: Outcome) -> Outcome:
    facts = theirs_if_raised(plan, session.probe, "running env.py")
    lines = [
        f"{plan.component}: dry run of {move.direction} {move.shown} on {db.source.url.masked()}",
        f"Current revision: {_heads_text(heads)}",
        f"Transactions: {facts.transaction_mode()}",
        RetryPolicy.of(plan).describe(facts.per_migration),
        *_step_lines(move, steps),
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
        if plan.option("no_backup", False):
            lines.append("Backup: none (--no-backup)")
        else:
            from db_migrate.runner.postgres.backup import backup_path

            folder, start, destination = _backup_path(plan, heads, steps)
            where = backup_path(folder, plan.component, start, destination)
            lines.append(
                f"Backup: pg_dump --format=custom into {where} (verified with pg_restore --list)"
            )
    lines.append("Nothing was changed (--dry-run).")
    print("\n".join(lines), flush=True)
    outcome.steps = tuple(_as_step(s, 0.0) for s in steps)
    outcome.extra["transaction_per_migration"] = facts.per_migration
    outcome.extra["other_sessions"] = [s.describe() for s in others]
    return outcome.finish("dry-run", heads)


def _check_sessions(plan: RunnerPlan, db, move: Move) -> None:
    """Refuse a downgrade while other sessions are connected; list them for an upgrade."""
    others = other_sessions(db.connection)
    if not others:
        return
    if move.direction == "downgrade" and not plan.option("allow_active_sessions", False):
        retry = _retry(plan, "--allow-active-sessions")
        raise ProblemError(active_sessions(plan.component, db.source.url.masked(), others, retry))
    print(
        f"{report.WARNING} Warning: {plan.component}: {len(others)} other session(s) on the database:",
        flush=True,
    )
    for session in others:
        print(f"  - {session.describe()}", flush=True)


def _backup_before(plan: RunnerPlan, db, move: Move, heads, steps, outcome: Outcome) -> None:
    if move.direction != "downgrade":
        return
    if plan.option("no_backup", False):
        print(f"{plan.component}: --no-backup given: downgrading without a backup", flush=True)
        return
    from db_migrate.runner.postgres.backup import take_backup

    folder, start, destination = _backup_path(plan, heads, steps)
    where = db.source.url.masked()
    print(f"{plan.component}: backing up {where} before the downgrade ...", flush=True)
    outcome.backup = take_backup(
        db.source.url, folder, (plan.component, start, destination), plan.selector, plan.buildroot
    )
    print(
        f"{plan.component}: backup verified ({outcome.backup.size} bytes): {outcome.backup.path}",
        flush=True,
    )


def _apply(plan, ini, db, session, move: Move, planned, book, outcome: Outcome):
    """Run the steps; on failure, say what was kept or rolled back (checked on the database)."""
    from db_migrate.runner.alembic_glue.steps import StepFailed

    heads, steps = planned
    n = len(steps)
    print(
        f"{plan.component}: {move.direction} {move.target} on {db.source.url.masked()} "
        f"({n} revision{'s' if n != 1 else ''}, from {_heads_text(heads)})",
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
    except LockWaitGaveUp as gave_up:
        outcome.steps = tuple(_as_step(d.step, d.seconds) for d in gave_up.done)
        outcome.extra["lock_waits"] = retries.waits
        outcome.finish("failed", gave_up.after)
        if gave_up.done:
            print(_partial_summary(move, gave_up.done), flush=True)
        raise
    except StepFailed as failure:
        outcome.steps = tuple(_as_step(d.step, d.seconds) for d in failure.done)
        after = current_heads(db.connection, ini.version_table)
        outcome.finish("failed", after)
        raise ProblemError(_failure_problem(plan, move, heads, after, failure)) from None
    outcome.seconds = time.perf_counter() - started
    outcome.steps = tuple(_as_step(d.step, d.seconds) for d in done)
    if retries.waits:
        outcome.extra["lock_waits"] = retries.waits
    return current_heads(db.connection, ini.version_table)


def _lock_retries(plan, ini: AlembicIni, db, session, move: Move, live: LiveOutput):
    """How this run retries a revision that times out waiting for a lock, and says so."""
    from db_migrate.runner.migration.lock_retries import LockRetries
    from db_migrate.runner.postgres.lock_waits import LockWaitWatch

    policy = RetryPolicy.of(plan)
    # Often enough to see a wait of one lock_timeout; no faster than needed without one.
    timeout = policy.timeout_seconds
    interval = min(0.25, max(0.05, timeout / 5)) if timeout > 0 else 0.25

    def onward(target: Optional[str]) -> str:
        if target is None:
            return _retry(plan)
        down = ("--direction=downgrade",) if move.direction == "downgrade" else ()
        return report.goal("db-migrate", plan.selector, *down, f"--target={target}")

    return LockRetries(
        policy,
        plan.component,
        read_heads=lambda: current_heads(db.connection, ini.version_table),
        watch=lambda: LockWaitWatch(db.connection, lambda: session.migration_pid, interval),
        say=live.line,
        retry_command=onward,
    )


def _run_steps(session, move: Move, live: LiveOutput, book, target: str) -> List:
    def on_start(step) -> None:
        live.line(f"  ▶ {_heads_text(step.old)} → {_heads_text(step.new)}: {step.message}")

    def on_end(done) -> None:
        verb = "applied" if done.step.is_upgrade else "reverted"
        when = "" if session.per_migration else " (commits with the run)"
        live.line(f"  ✓ {done.step.revision} {verb} in {report.duration(done.seconds)}{when}")

    return session.run(move.direction, target, on_start, on_end, on_applied=book.note)


def _failure_problem(plan, move: Move, before, after, failure) -> Problem:
    """The failed revision, its error, and what the database holds now."""
    print(f"  ✗ {failure.step.revision} failed", flush=True)
    path = os.path.relpath(failure.step.path)
    if failure.facts is not None and not failure.facts.per_migration:
        if tuple(after) == tuple(before):
            where = (
                f"still at its starting revision, {_heads_text(before)}"
                if before
                else "still at base (nothing applied)"
            )
        else:
            where = f"at {_heads_text(after)}"
        footer = (
            "env.py runs every revision of a run in one transaction: the failure rolled back the"
            f" whole run, the {len(failure.done)} revision(s) before it included. The database is"
            f" {where} (checked)."
        )
    else:
        if failure.done:
            print(_partial_summary(move, failure.done), flush=True)
        footer = (
            "Revisions applied before it stay applied (one transaction per revision): the database"
            f" is at {_heads_text(after) if after else report.BASE} (checked)."
        )
    error = _error_text(failure.error)
    if sqlstate(failure.error) == FOREIGN_KEY_VIOLATION:
        problem = report.foreign_key_violation(
            plan.component, plan.selector, failure.step.revision, path, error
        )
    else:
        problem = report.revision_failed(
            plan.component, plan.selector, failure.step.revision, path, error
        )
    return Problem(**{**problem.__dict__, "footer": footer})


def _error_text(error: BaseException) -> str:
    """The database's error, or for a Python error in a revision, where in the user's file."""
    if sqlstate(error) is None:
        frames = user_frames(error)
        if frames:
            return f"{error_line(error)} ({frames[-1].path}, line {frames[-1].line})"
    return db_error_text(error)


def _as_step(step, seconds: float) -> Step:
    return Step(
        old=_heads_text(step.old),
        new=_heads_text(step.new),
        message=step.message,
        seconds=seconds,
        revision=step.revision,
    )


def _partial_summary(move: Move, done) -> str:
    verb = "Applied" if move.direction == "upgrade" else "Reverted"
    lines = [f"{verb} before the failure (committed):"]
    lines += [
        f"  - {_heads_text(d.step.old)} → {_heads_text(d.step.new)}: {d.step.message}" for d in done
    ]
    return "\n".join(lines)


def _result(plan: RunnerPlan, move: Move, after, outcome: Outcome) -> MigrationResult:
    return MigrationResult(
        component=plan.component,
        direction=move.direction,
        target=move.shown,
        steps=outcome.steps,
        new_status=_new_status(after, plan.heads),
        backup=str(outcome.backup.path) if outcome.backup else None,
        restore_command=outcome.backup.restore_command if outcome.backup else None,
    )


def _new_status(after: Tuple[str, ...], script_heads: Sequence[str]) -> str:
    if set(after) == set(script_heads):
        return "Database is up-to-date"
    if not after:
        return "Database at base (no revision applied)"
    return f"Database at revision {_heads_text(after)}"

"""What stops a migration, in the specification's error blocks."""

from __future__ import annotations

import os
from typing import Sequence

from db_migrate.core import report
from db_migrate.core.report import Problem
from db_migrate.runner.migration.move import Move
from db_migrate.runner.migration.rendering import heads_text
from db_migrate.runner.postgres import errors as db_errors
from db_migrate.runner.postgres.errors import root_cause, sqlstate
from db_migrate.runner.usercode import error_line, user_frames

FOREIGN_KEY_VIOLATION = "23503"


def ahead_of_code(plan, unknown: Sequence[str], heads: Sequence[str]) -> Problem:
    return Problem(
        title="Database is ahead of this code",
        details=(
            f"{plan.component}'s database is at {', '.join(unknown)}, which no revision file here defines",
            f"Database revisions: {heads_text(heads)}; heads of these scripts: {heads_text(plan.heads)}",
            "It was migrated by newer code, or by another branch.",
        ),
        actions=(
            "Pull the latest code (git pull) or check out the branch that migrated this database",
            f"Check the state: {report.goal('db-status', plan.selector)}",
            "Point the component at another database if this one belongs to someone else",
        ),
        kind="database_ahead",
    )


def wrong_direction(plan, move: Move, heads: Sequence[str]) -> Problem:
    other = "downgrade" if move.direction == "upgrade" else "upgrade"
    relation = "below" if move.direction == "upgrade" else "above"
    return Problem(
        title=f"Cannot {move.direction} to {move.target}",
        details=(
            f"{move.target} is {relation} {plan.component}'s current revision ({heads_text(heads)}):"
            f" {move.direction} cannot reach it",
            f"Did you mean --direction={other}?",
        ),
        actions=(
            f"To go there: {report.goal('db-migrate', plan.selector, f'--direction={other}', f'--target={move.target}')}",
            f"Check the state: {report.goal('db-status', plan.selector)}",
        ),
        kind="wrong_direction",
    )


def unreachable(plan, move: Move, heads: Sequence[str], why: str) -> Problem:
    return Problem(
        title=f"Cannot {move.direction} to {move.target}",
        details=(f"From {heads_text(heads)}: {why}",),
        actions=(
            f"Check current and head revisions: {report.goal('db-status', plan.selector)}",
            "Pick a target on the path between them (a revision id, head, base, +N or -N)",
        ),
        kind="unreachable_target",
    )


def in_one_transaction(failure) -> bool:
    """Whether env.py ran the whole failed run in one transaction (then nothing of it stays)."""
    return failure.facts is not None and not failure.facts.per_migration


def failure_problem(plan, before, after, failure) -> Problem:
    """The failed revision, its error, and what the database holds now (`after`, read back)."""
    path = os.path.relpath(failure.step.path)
    if in_one_transaction(failure):
        if tuple(after) == tuple(before):
            where = (
                f"still at its starting revision, {heads_text(before)}"
                if before
                else "still at base (nothing applied)"
            )
        else:
            where = f"at {heads_text(after)}"
        footer = (
            "env.py runs every revision of a run in one transaction: the failure rolled back the"
            f" whole run, the {len(failure.done)} revision(s) before it included. The database is"
            f" {where} (checked)."
        )
    else:
        footer = (
            "Revisions applied before it stay applied (one transaction per revision): the database"
            f" is at {heads_text(after) if after else report.BASE} (checked)."
        )
    error = error_text(failure.error)
    if sqlstate(failure.error) == FOREIGN_KEY_VIOLATION:
        problem = report.foreign_key_violation(
            plan.component, plan.selector, failure.step.revision, path, error
        )
    else:
        problem = report.revision_failed(
            plan.component, plan.selector, failure.step.revision, path, error
        )
    return Problem(**{**problem.__dict__, "footer": footer})


def error_text(error: BaseException) -> str:
    """The database's error, or for a Python error in a revision, where in the user's file."""
    if sqlstate(error) is None:
        frames = user_frames(error)
        if frames:
            return f"{error_line(error)} ({frames[-1].path}, line {frames[-1].line})"
    return db_error_text(error)


def db_error_text(error: BaseException) -> str:
    """The database's own first line, masked; for an error that is no database's, `Type: message`."""
    if sqlstate(error) is None and root_cause(error) is error:
        return error_line(error)
    return report.mask(db_errors.db_error_text(error))

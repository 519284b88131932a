"""The text a migration prints: revisions as `old → new: message`, the plan, the result."""

from __future__ import annotations

import os
from typing import List, Sequence, Tuple

from db_migrate.core import report
from db_migrate.core.report import MigrationResult, Step
from db_migrate.runner.migration.move import Move


def heads_text(heads: Sequence[str]) -> str:
    return report.describe_heads(heads)


def step_lines(move: Move, steps) -> List[str]:
    """The revisions a run would apply or revert, in order, each with its file."""
    n = len(steps)
    lines = [
        f"Would {'apply' if move.direction == 'upgrade' else 'revert'} {n} "
        f"revision{'s' if n != 1 else ''}, in this order:"
    ]
    for i, step in enumerate(steps, 1):
        lines.append(
            f"  {i}. {heads_text(step.old)} → {heads_text(step.new)}: {step.message}"
            f" ({os.path.relpath(step.path)})"
        )
    return lines


def as_step(step, seconds: float) -> Step:
    """An Alembic step as the report's `Step`."""
    return Step(
        old=heads_text(step.old),
        new=heads_text(step.new),
        message=step.message,
        seconds=seconds,
        revision=step.revision,
    )


def partial_summary(move: Move, done) -> str:
    """What stays applied after a failure, with one transaction per revision."""
    verb = "Applied" if move.direction == "upgrade" else "Reverted"
    lines = [f"{verb} before the failure (committed):"]
    lines += [
        f"  - {heads_text(d.step.old)} → {heads_text(d.step.new)}: {d.step.message}" for d in done
    ]
    return "\n".join(lines)


def result(plan, move: Move, after: Tuple[str, ...], outcome) -> MigrationResult:
    """The success block of a run that changed the database."""
    return MigrationResult(
        component=plan.component,
        direction=move.direction,
        target=move.shown,
        steps=outcome.steps,
        new_status=new_status(after, plan.heads),
        backup=str(outcome.backup.path) if outcome.backup else None,
        restore_command=outcome.backup.restore_command if outcome.backup else None,
    )


def new_status(after: Tuple[str, ...], script_heads: Sequence[str]) -> str:
    if set(after) == set(script_heads):
        return "Database is up-to-date"
    if not after:
        return "Database at base (no revision applied)"
    return f"Database at revision {heads_text(after)}"

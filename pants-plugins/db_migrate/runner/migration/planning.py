"""The steps Alembic plans for a move, and why a move has none."""

from __future__ import annotations

import re

from db_migrate.core.contract import RunnerPlan
from db_migrate.core.report import ProblemError
from db_migrate.runner.migration.move import Move
from db_migrate.runner.migration.problems import unreachable, wrong_direction
from db_migrate.runner.usercode import theirs_if_raised


def planned_steps(plan: RunnerPlan, session, move: Move, heads) -> list:
    """Alembic's steps from `heads` to the target; refused when the target lies the other way
    or cannot be reached."""
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

"""The component's revisions as the plan describes them, and Alembic's map of them.

The plan carries every revision's full header (read by the plugin's pre-flight from the same
files the sandbox holds, in Alembic's load order), so the runner reads no file for it: at 10,000
revisions, parsing them again would cost more than the rest of `db-status`.
"""

from __future__ import annotations

from typing import Tuple

from db_migrate.core.contract import RunnerPlan
from db_migrate.core.history import History
from db_migrate.core.revision_file import Revision


def load_revisions(plan: RunnerPlan) -> Tuple[Revision, ...]:
    return tuple(
        Revision(
            revision=fact.revision,
            down_revisions=tuple(fact.down_revisions),
            branch_labels=tuple(fact.branch_labels),
            depends_on=tuple(fact.depends_on),
            message=fact.message,
            path=fact.path,
        )
        for fact in plan.revisions
    )


def load_history(plan: RunnerPlan) -> History:
    return History(load_revisions(plan))

"""Where a fault struck: the component and its server, the revision that was running, what was
known of the database before it, and the command that goes on from there."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Sequence, Tuple

from db_migrate.core import report


@dataclass(frozen=True)
class Scene:
    component: str
    selector: str
    server: str  # host:port (or socket), never a password
    activity: str = "during the run"  # "while applying <rev> (<message>, <path>)"
    revision: str = ""  # the revision that was running, if any
    last_known: str = ""  # the state known before the fault, for when it cannot be read now
    continue_command: str = ""
    with_it: Tuple[str, ...] = ()  # revisions of the same transaction (a one-transaction run)
    lock_timeout: str = ""
    statement_timeout: str = ""
    network_timeout: float = 0.0
    dev_server: bool = False

    @property
    def status_command(self) -> str:
        return report.goal("db-status", self.selector)


def scene(plan: Any, db: Any, continue_command: str, **more: Any) -> Scene:
    """A fault during the run of `plan` on `db` (a `ComponentDatabase`)."""
    settings = {
        "component": plan.component,
        "selector": plan.selector,
        "server": db.source.url.where,
        "continue_command": continue_command,
        "lock_timeout": plan.shared.pg_lock_timeout,
        "statement_timeout": plan.shared.pg_statement_timeout,
        "network_timeout": db.network_timeout,
        "dev_server": db.dev_server,
    }
    return Scene(**{**settings, **more})


def step_scene(
    plan: Any, db: Any, failure: Any, heads: Sequence[str], continue_command: str
) -> Scene:
    """A fault while a revision ran (`failure`: the `StepFailed` of `alembic_glue.steps`)."""
    step = failure.step
    per_migration = failure.facts is None or failure.facts.per_migration
    if per_migration and failure.done:
        committed = report.describe_heads(failure.done[-1].step.new)
        known = f"{committed} (the revisions before {step.revision} committed)"
    elif per_migration:
        known = f"{report.describe_heads(heads)} (where it was before {step.revision} started)"
    else:
        known = (
            f"{report.describe_heads(heads)} (the run is one transaction, which had not committed)"
        )
    verb = "applying" if step.is_upgrade else "reverting"
    return scene(
        plan,
        db,
        continue_command,
        activity=f"while {verb} {step.revision} ({step.message}, {os.path.relpath(step.path)})",
        revision=step.revision,
        last_known=known,
        with_it=() if per_migration else tuple(d.step.revision for d in failure.done),
    )

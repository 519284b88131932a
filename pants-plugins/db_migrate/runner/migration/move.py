"""What the user asked db-migrate for, and the command that asks for it again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from db_migrate.core import report
from db_migrate.core.contract import MigrateOptions, RunnerPlan


@dataclass(frozen=True)
class Move:
    """A direction, a resolved target and how the user spelled it."""

    direction: str
    target: str
    label: str

    @classmethod
    def of(cls, options: MigrateOptions) -> Move:
        return cls(options.direction, options.target, options.target_label or options.target)

    @property
    def shown(self) -> str:
        return self.label if self.label == self.target else f"{self.label} ({self.target})"


def retry_command(plan: RunnerPlan[MigrateOptions], *extra: str, target: str = "") -> str:
    """The command the user ran, with their own options, plus `extra` (and `target` instead of
    theirs when given: `continuing_target`)."""
    options = plan.options
    flags = []
    if options.direction != "upgrade":
        flags.append(f"--direction={options.direction}")
    label = target or options.target_label
    if label and label != "head":
        flags.append(f"--target={label}")
    flags += [f for f in options.user_flags if f not in flags]
    return report.goal("db-migrate", plan.selector, *flags, *extra)


# A target that counts from where the database is: `-1`, `+2`, `LABEL@+1` (and `REV+1`, from REV).
_COUNTS = re.compile(r"[+-]\d+$")


def continuing_target(target: str, steps: Sequence, moved: bool = True) -> Optional[str]:
    """The target that finishes a run of `steps` which stopped part-way: `target` itself while
    the database has not `moved` (or when it names revisions by itself); a relative one counts
    from where the database is, so once it moved, the revision the run was going to end at.
    None: that end is several revisions (a merge reverted), which no one target names."""
    if not moved or not _COUNTS.search(target):
        return target
    end = steps[-1].new
    if len(end) > 1:
        return None
    return end[0] if end else "base"

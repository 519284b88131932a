"""What the user asked db-migrate for, and the command that asks for it again."""

from __future__ import annotations

from dataclasses import dataclass

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


def retry_command(plan: RunnerPlan[MigrateOptions], *extra: str) -> str:
    """The command the user ran, with their own options, plus `extra`."""
    options = plan.options
    flags = []
    if options.direction != "upgrade":
        flags.append(f"--direction={options.direction}")
    if options.target_label and options.target_label != "head":
        flags.append(f"--target={options.target_label}")
    flags += [f for f in options.user_flags if f not in flags]
    return report.goal("db-migrate", plan.selector, *flags, *extra)

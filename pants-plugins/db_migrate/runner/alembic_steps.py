"""Run Alembic's upgrade/downgrade with a line per revision as it starts and as it ends.

This is `alembic.command.upgrade` with our own step function: the steps Alembic plans are handed
back one at a time, so we see each start, and each end after its transaction committed (the
generator resumes only when the migration context asks for the next step).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from alembic import util as alembic_util
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory


@dataclass(frozen=True)
class PlannedStep:
    revision: str
    old: Tuple[str, ...]
    new: Tuple[str, ...]
    message: str
    path: str
    is_upgrade: bool


@dataclass(frozen=True)
class DoneStep:
    step: PlannedStep
    seconds: float


class StepFailed(Exception):
    """A revision raised; everything before it is committed, it was rolled back."""

    def __init__(self, step: PlannedStep, done: Sequence[DoneStep], error: BaseException) -> None:
        super().__init__(str(error))
        self.step = step
        self.done = tuple(done)
        self.error = error


class PlanError(Exception):
    """Alembic cannot plan the requested move (unknown or unreachable target)."""


class RevisionLoadError(Exception):
    """A revision file failed when Alembic loaded it (syntax, or an error at import time)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(message)
        self.path, self.line, self.message = path, line, message


def _load_error(error: BaseException, script_dir: str) -> RevisionLoadError:
    if isinstance(error, SyntaxError):
        return RevisionLoadError(
            error.filename or "?", error.lineno or 0, f"{type(error).__name__}: {error.msg}"
        )
    tb = error.__traceback__
    path, line = "?", 0
    while tb is not None:  # the innermost frame inside the script directory names the file
        if tb.tb_frame.f_code.co_filename.startswith(script_dir):
            path, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return RevisionLoadError(path, line, f"{type(error).__name__}: {error}")


def _planned(revision_step) -> PlannedStep:
    script = revision_step.revision
    return PlannedStep(
        revision=script.revision,
        old=tuple(revision_step.from_revisions_no_deps),
        new=tuple(revision_step.to_revisions_no_deps),
        message=(script.doc or "").strip().splitlines()[0] if script.doc else "",
        path=script.path,
        is_upgrade=revision_step.is_upgrade,
    )


class AlembicSession:
    """One component's Alembic config and script directory, loaded once per run."""

    def __init__(self, config_path: str) -> None:
        self.config = Config(config_path)
        self.script = ScriptDirectory.from_config(self.config)

    def applied(self, heads: Sequence[str]) -> List[str]:
        """Every revision a database at `heads` has applied (the heads and their ancestors)."""
        if not heads:
            return []
        return [
            s.revision for s in self.script.revision_map.iterate_revisions(tuple(heads), "base")
        ]

    def plan(self, direction: str, target: str, current: Sequence[str]) -> List[PlannedStep]:
        """The steps Alembic would run, in order, without touching the database."""
        heads: Tuple[str, ...] = tuple(current)
        try:
            if direction == "upgrade":
                steps = self.script._upgrade_revs(target, heads)
            else:
                steps = self.script._downgrade_revs(target, heads)
        except alembic_util.CommandError as e:
            raise PlanError(str(e)) from None
        except Exception as e:  # loading the revision modules runs them: report the file and line
            raise _load_error(e, self.script.dir) from None
        return [_planned(s) for s in steps]

    def run(
        self,
        direction: str,
        target: str,
        on_start: Callable[[PlannedStep], None],
        on_end: Callable[[DoneStep], None],
        on_applied: Optional[Callable[[object, PlannedStep], None]] = None,
    ) -> List[DoneStep]:
        """Apply the move; `on_applied(context, step)` runs inside each revision's transaction."""
        done: List[DoneStep] = []
        current: List[Optional[PlannedStep]] = [None]
        started = [0.0]

        def tracked(steps) -> Iterator:
            for revision_step in steps:
                planned = _planned(revision_step)
                current[0] = planned
                on_start(planned)
                started[0] = time.perf_counter()
                yield revision_step
                # Resumed: the previous step's transaction has been committed.
                finished = DoneStep(planned, time.perf_counter() - started[0])
                done.append(finished)
                current[0] = None
                on_end(finished)

        def step_fn(rev, context):
            if on_applied is not None:

                def callback(ctx, step, heads, run_args):
                    if current[0] is not None:
                        on_applied(ctx, current[0])

                context.on_version_apply_callbacks = (*context.on_version_apply_callbacks, callback)
            if direction == "upgrade":
                return tracked(self.script._upgrade_revs(target, rev))
            return tracked(self.script._downgrade_revs(target, rev))

        try:
            with EnvironmentContext(
                self.config,
                self.script,
                fn=step_fn,
                as_sql=False,
                starting_rev=None,
                destination_rev=target,
                tag=None,
            ):
                self.script.run_env()
        except BaseException as e:
            if current[0] is not None:
                raise StepFailed(current[0], done, e) from e
            raise
        return done

"""Run Alembic's upgrade/downgrade with a line per revision as it starts and as it ends.

This is `alembic.command.upgrade` with our own step function: the steps Alembic plans are handed
back one at a time, so we see each start, and each end after its transaction committed (the
generator resumes only when the migration context asks for the next step).

env.py is handed our connection (`config.attributes["connection"]`, Alembic's documented way to
share one), so whatever its shape (sync, async, a URL from anywhere) it migrates the database we
locked. Its `context.configure(...)` call is watched: an env.py that connects elsewhere, or names
another version table, is refused before a single revision runs.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from alembic import util as alembic_util
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from db_migrate.core.report import ProblemError
from db_migrate.runner.alembic_glue.env_watch import EnvFacts, HandOver, check_configure
from db_migrate.runner.usercode import error_line, user_frames


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
    """A revision raised; it was rolled back, and with it, in one-transaction mode, the whole run.

    `autocommitted`: the revision had left its transaction (`autocommit_block()`) before it failed,
    so what it ran there stays: running it again would run that part twice.
    """

    def __init__(
        self,
        step: PlannedStep,
        done: Sequence[DoneStep],
        error: BaseException,
        facts: Optional[EnvFacts],
        autocommitted: bool = False,
    ) -> None:
        super().__init__(str(error))
        self.step = step
        self.done = tuple(done)
        self.error = error
        self.facts = facts
        self.autocommitted = autocommitted

    @property
    def per_migration(self) -> bool:
        return self.facts is None or self.facts.per_migration


class PlanError(Exception):
    """Alembic cannot plan the requested move (unknown or unreachable target)."""


class RevisionLoadError(Exception):
    """A revision file failed while Alembic loaded it (syntax, or an error at import time)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(message)
        self.path, self.line, self.message = path, line, message


def _backend_pid(connection) -> Optional[int]:
    """The server pid of a SQLAlchemy connection through psycopg (None for another driver)."""
    info = getattr(getattr(connection.connection, "driver_connection", None), "info", None)
    return getattr(info, "backend_pid", None)


def _load_error(error: BaseException, script_dir: str) -> Optional[RevisionLoadError]:
    """The error as a revision file's, when the innermost frame of the user's code is one."""
    frames = user_frames(error)
    if not frames:
        return None
    where = frames[-1]
    versions = os.path.relpath(script_dir)
    if not where.path.startswith(versions + os.sep) or where.path.endswith("env.py"):
        return None
    return RevisionLoadError(where.path, where.line, error_line(error))


class _Probed(Exception):
    """Raised from `configure` by a probe: env.py told us how it runs; nothing ran."""


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


@contextlib.contextmanager
def _watching(session: AlembicSession, on_applied=None, probe: bool = False) -> Iterator[None]:
    """Route env.py's `context.configure(...)` through our check (and add our hook) while
    Alembic runs, whichever of its commands builds the EnvironmentContext."""
    original = EnvironmentContext.configure

    def configure(env: EnvironmentContext, *args: Any, **kw: Any) -> None:
        env_py = os.path.relpath(env.script.env_py_location)
        session.facts = check_configure(session.hand_over, args, kw, env.config, env_py)
        if probe:
            raise _Probed()
        if on_applied is not None:
            kw["on_version_apply"] = (
                *alembic_util.to_tuple(kw.get("on_version_apply"), default=()),
                on_applied,
            )
        original(env, *args, **kw)

    EnvironmentContext.configure = configure  # type: ignore[method-assign]
    try:
        with _noting_autocommit(session):
            yield
    finally:
        EnvironmentContext.configure = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _noting_autocommit(session: AlembicSession) -> Iterator[None]:
    """`session.autocommitted` becomes True when a revision enters `autocommit_block()`, which
    commits what ran before it and runs its body outside any transaction."""
    original = MigrationContext.autocommit_block

    @contextlib.contextmanager
    def autocommit_block(context: MigrationContext) -> Iterator[None]:
        session.autocommitted = True
        with original(context):
            yield

    MigrationContext.autocommit_block = autocommit_block  # type: ignore[method-assign]
    try:
        yield
    finally:
        MigrationContext.autocommit_block = original  # type: ignore[method-assign]


@dataclass
class _Progress:
    current: Optional[PlannedStep] = None
    started: float = 0.0
    done: List[DoneStep] = field(default_factory=list)


class AlembicSession:
    """One component's Alembic config and script directory, loaded once per run."""

    def __init__(
        self,
        config_path: str,
        hand_over: Optional[HandOver] = None,
        config: Optional[Config] = None,
    ) -> None:
        self.config = config or Config(config_path)
        self.hand_over = hand_over
        self.facts: Optional[EnvFacts] = None  # known once env.py has called `configure`
        self.script = ScriptDirectory.from_config(self.config)
        self.migration_pid: Optional[int] = None  # the session env.py runs on, while it runs
        self.autocommitted = False  # the running revision entered autocommit_block()

    @property
    def per_migration(self) -> bool:
        return self.facts is None or self.facts.per_migration

    def applied(self, heads: Sequence[str]) -> List[str]:
        """Every revision a database at `heads` has applied (the heads and their ancestors)."""
        if not heads:
            return []
        return [
            s.revision for s in self.script.revision_map.iterate_revisions(tuple(heads), "base")
        ]

    def _steps(self, direction: str, target: str, current) -> list:
        if direction == "upgrade":
            return self.script._upgrade_revs(target, current)
        return self.script._downgrade_revs(target, current)

    def plan(self, direction: str, target: str, current: Sequence[str]) -> List[PlannedStep]:
        """The steps Alembic would run, in order, without touching the database."""
        try:
            steps = self._steps(direction, target, tuple(current))
        except alembic_util.CommandError as e:
            raise PlanError(str(e)) from None
        except Exception as e:  # loading the revision modules runs them
            load = _load_error(e, self.script.dir)
            if load is None:
                raise
            raise load from None
        return [_planned(s) for s in steps]

    @contextlib.contextmanager
    def handing_over(self, on_applied=None, probe=False) -> Iterator[None]:
        """While Alembic runs env.py (here, or in one of Alembic's commands given
        `self.config`): our connection in `config.attributes["connection"]`, `configure` checked."""
        with contextlib.ExitStack() as stack:
            connection = None
            if self.hand_over is not None:
                connection = stack.enter_context(self.hand_over.connection())
                self.config.attributes["connection"] = connection
                self.migration_pid = _backend_pid(connection)
                stack.callback(setattr, self, "migration_pid", None)
            with _watching(self, on_applied, probe):
                yield
            if connection is not None and connection.in_transaction():
                connection.commit()  # what env.py left open when it returned normally
            self.config.attributes.pop("connection", None)

    @contextlib.contextmanager
    def _environment(self, on_applied=None, probe=False, **kw) -> Iterator[EnvironmentContext]:
        """Alembic's environment with our connection handed to env.py (when we have one)."""
        with self.handing_over(on_applied, probe):
            env = EnvironmentContext(
                self.config, self.script, as_sql=False, starting_rev=None, tag=None, **kw
            )
            with env:
                yield env

    def probe(self) -> EnvFacts:
        """How env.py runs (its `configure` arguments), without running a single revision."""
        with self._environment(fn=lambda rev, context: [], probe=True), contextlib.suppress(
            _Probed
        ):
            self.script.run_env()
        if self.facts is None:
            raise RuntimeError("env.py returned without calling context.configure()")
        return self.facts

    def run(
        self,
        direction: str,
        target: str,
        on_start: Callable[[PlannedStep], None],
        on_end: Callable[[DoneStep], None],
        on_applied: Optional[Callable[[object, PlannedStep], None]] = None,
    ) -> List[DoneStep]:
        """Apply the move; `on_applied(context, step)` runs inside each revision's transaction."""
        progress = _Progress()

        def tracked(steps) -> Iterator:
            for revision_step in steps:
                progress.current = _planned(revision_step)
                self.autocommitted = False
                on_start(progress.current)
                progress.started = time.perf_counter()
                yield revision_step
                # Resumed: the previous step ran (and, per migration, committed).
                finished = DoneStep(progress.current, time.perf_counter() - progress.started)
                progress.done.append(finished)
                progress.current = None
                on_end(finished)

        def applied(ctx, step, heads, run_args) -> None:
            if on_applied is not None and progress.current is not None:
                on_applied(ctx, progress.current)

        def step_fn(rev, context):
            return tracked(self._steps(direction, target, rev))

        try:
            with self._environment(fn=step_fn, destination_rev=target, on_applied=applied):
                self.script.run_env()
        except ProblemError:
            raise
        except BaseException as e:
            if progress.current is not None:
                raise StepFailed(
                    progress.current, progress.done, e, self.facts, self.autocommitted
                ) from e
            raise
        return progress.done

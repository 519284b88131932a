"""One component's round trip on an empty throwaway database, one revision at a time:

1. upgrade from empty to head, recording what each step changed;
2. downgrade to base (or to `verify_min_revision`), comparing the schema after each step with the
   schema before the matching upgrade (`verify_skip`/`--skip` revisions are reverted but not
   compared; what they leave behind is ignored from then on, and reported);
3. upgrade to head again: the schema must equal the first upgrade's;
4. compare the models with the schema (Alembic's autogenerate comparison, configured by env.py).

Every step runs through `AlembicSession` (one env.py run per phase, Alembic's own step functions).
A failure raises `ProblemError` with the report of `verify_report`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from db_migrate.core import report
from db_migrate.core.contract import RunnerPlan, VerifyOptions
from db_migrate.core.report import ProblemError, VerificationResult
from db_migrate.runner.verify import report as verify_report
from db_migrate.runner.verify import schema
from db_migrate.runner.verify.model_diff import differences
from db_migrate.runner.verify.report import Policy, Record
from db_migrate.runner.verify.schema import Schema, SchemaDiff
from db_migrate.runner.verify.schema_reads import Snapshots, TrackingMissed


class SchemaMismatch(Exception):
    """Raised inside a downgrade's transaction when the schema is not the one before its upgrade."""

    def __init__(self, difference: SchemaDiff) -> None:
        super().__init__("schema differs")
        self.difference = difference


class RoundTrip:
    """The four phases on one session; `record` keeps what they saw, for the report."""

    def __init__(self, plan: RunnerPlan[VerifyOptions], session, snapshots: Snapshots) -> None:
        self.plan = plan
        self.session = session
        self.snapshots = snapshots
        self.policy = Policy.of(plan.options)
        self.record = Record({r.revision: r for r in plan.revisions})

    def say(self, text: str) -> None:
        print(f"{self.plan.component}: {text}", flush=True)

    def run(self) -> VerificationResult:
        started = time.perf_counter()
        head_schema = self._timed("upgrade", self.upgrade_from_empty)
        self._timed("downgrade", lambda: self.downgrade_and_compare(head_schema))
        self.snapshots.stop()
        self._timed("upgrade again", lambda: self.upgrade_again(head_schema))
        models_note = self._timed("models", self.compare_models)
        seconds = time.perf_counter() - started
        return verify_report.success(self.plan, self.record, self.policy, seconds, models_note)

    def _timed(self, phase: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = fn()
        self.record.timings.append((phase, time.perf_counter() - started))
        return result

    # -- the phases --------------------------------------------------------------------------

    def upgrade_from_empty(self) -> Schema:
        count = len(self._plan("upgrade", "heads", ()))
        self.say(
            f"upgrade from empty to head, one revision at a time ({count} revision{'s' if count != 1 else ''})"
        )
        found = self.snapshots.now()
        if len(found):
            raise ProblemError(verify_report.not_empty(self.plan, len(found)))
        self.snapshots.start()
        state = {"schema": found}

        def on_applied(ctx, step) -> None:
            after = self.snapshots.after_step(ctx.connection)
            self.record.upgraded(step.revision, self.snapshots.change(state["schema"], after))
            state["schema"] = after

        self._steps("upgrade", "heads", on_applied, "↑", lambda rev: "applied")
        self.snapshots.confirm_now(state["schema"])
        return state["schema"]

    def downgrade_and_compare(self, head_schema: Schema) -> None:
        minimum = self.policy.min_revision
        target = minimum or "base"
        count = len(self._plan("downgrade", target, tuple(self.session.script.get_heads())))
        where = f"{minimum} (verify_min_revision)" if minimum else "base"
        self.say(
            f"downgrade to {where} one revision at a time, comparing the schema after each step with the"
            f" schema before its upgrade ({count} revision{'s' if count != 1 else ''})"
        )
        state = {"expected": head_schema, "actual": head_schema}

        def on_applied(ctx, step) -> None:
            state["expected"] = schema.revert(
                state["expected"], self.record.deltas.get(step.revision, {})
            )
            state["actual"] = self.snapshots.after_step(ctx.connection)
            self._compare_downgrade(step.revision, state["expected"], state["actual"], ctx)

        def verb(revision: str) -> str:
            if self.policy.skips(revision):
                return f"reverted, not compared ({self.policy.origin(revision)})"
            return "reverted, schema restored"

        self._steps("downgrade", target, on_applied, "↓", verb)
        self.snapshots.confirm_now(state["actual"])

    def _compare_downgrade(self, revision: str, expected: Schema, actual: Schema, ctx) -> None:
        difference = None
        if actual.objects != expected.objects:
            difference = schema.diff(expected, actual).without(self.record.ignored)
        skipped = self.policy.skips(revision)
        if difference and not skipped:
            self.snapshots.confirm(actual, ctx.connection)  # our tracker, before the revision
        self.record.reverted.append(revision)
        if skipped:
            self.record.skipped[revision] = difference or SchemaDiff({}, {}, {})
            if difference:
                self.record.ignored |= difference.keys()
        elif difference:
            raise SchemaMismatch(difference)

    def upgrade_again(self, head_schema: Schema) -> None:
        count = len(self.record.reverted)
        self.say(f"upgrade to head again ({count} revision{'s' if count != 1 else ''})")
        self._steps("upgrade", "heads", None, "↑", lambda rev: "applied")
        difference = schema.diff(head_schema, self.snapshots.now()).without(self.record.ignored)
        if difference:
            raise ProblemError(verify_report.reupgrade_mismatch(self.plan, self.record, difference))

    def compare_models(self) -> Optional[str]:
        """Alembic's autogenerate comparison with env.py's own target_metadata and options."""
        self.say("compare the models with the schema at head (Alembic autogenerate)")
        captured = self._autogenerate_diffs()
        if not captured.get("has_metadata"):
            return (
                "Models: env.py sets no target_metadata, so there is nothing to compare them with"
            )
        found = differences(captured.get("diffs") or [])
        if found:
            raise ProblemError(verify_report.models_differ(self.plan, self.record, found))
        return None

    # -- running Alembic ---------------------------------------------------------------------

    def _autogenerate_diffs(self) -> Dict[str, Any]:
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.environment import EnvironmentContext

        captured: Dict[str, Any] = {}

        def fn(rev, context):
            metadata = context.opts.get("target_metadata")
            captured["has_metadata"] = metadata is not None
            if metadata is not None:
                captured["diffs"] = compare_metadata(context, metadata)
            return []

        session = self.session
        try:
            with EnvironmentContext(
                session.config, session.script, fn=fn, as_sql=False, dont_mutate=True
            ):
                session.script.run_env()
        except Exception as e:  # noqa: BLE001 - env.py or the models: theirs
            raise ProblemError(verify_report.env_failed(self.plan, e)) from None
        return captured

    def _plan(self, direction: str, target: str, current) -> list:
        from db_migrate.runner.alembic_glue.steps import RevisionLoadError

        try:
            return self.session.plan(direction, target, current)
        except RevisionLoadError as e:
            raise ProblemError(
                verify_report.revision_load_failed(self.plan, _relative(e.path), e.line, e.message)
            ) from None

    def _steps(self, direction: str, target: str, on_applied, symbol: str, verb) -> None:
        from db_migrate.runner.alembic_glue.steps import RevisionLoadError, StepFailed

        def on_end(done) -> None:
            revision = done.step.revision
            self.say(f"  {symbol} {revision} {verb(revision)} ({report.duration(done.seconds)})")

        try:
            self.session.run(direction, target, lambda step: None, on_end, on_applied=on_applied)
        except StepFailed as failure:
            raise self._blame(direction, failure) from None
        except (ProblemError, TrackingMissed):
            raise
        except RevisionLoadError as e:
            problem = verify_report.revision_load_failed(
                self.plan, _relative(e.path), e.line, e.message
            )
            raise ProblemError(problem) from None
        except Exception as e:  # noqa: BLE001 - env.py itself failed: no revision to blame
            raise ProblemError(verify_report.env_failed(self.plan, e)) from None

    def _blame(self, direction: str, failure) -> Exception:
        error, revision = failure.error, failure.step.revision
        if isinstance(error, TrackingMissed):
            return error
        if isinstance(error, SchemaMismatch):
            problem = verify_report.downgrade_mismatch(
                self.plan, self.record, revision, error.difference
            )
        else:
            upgrade = direction == "upgrade"
            problem = verify_report.step_failed(self.plan, self.record, upgrade, revision, error)
        return ProblemError(problem)


def _relative(path: str) -> str:
    """A path in the sandbox as the user knows it (relative to the build root)."""
    try:
        return str(Path(path).resolve().relative_to(Path(os.getcwd()).resolve()))
    except ValueError:
        return path

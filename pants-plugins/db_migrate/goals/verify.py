"""`pants db-verify`: round-trip every selected component's history on a throwaway PostgreSQL.

Static pre-flight first (broken files, several heads, `verify_skip`/`verify_min_revision`/`--skip`
naming no revision: nothing starts). Then each component is one regular, cacheable `Process`
(`verify_process.py`) that starts its own PostgreSQL inside its sandbox: Pants runs them
concurrently, replays a result whose inputs did not change (marked `(cached ...)`), and shares
results through a remote cache when one is configured. A URL variable never reaches them.

Components are independent here, so a failure does not stop the others; the exit code is 0 only
when every selected component verifies.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.internals.session import RunId
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule
from pants.option.option_types import BoolOption, IntOption, StrListOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core import report
from db_migrate.core.contract import VerifyOptions
from db_migrate.core.report import Problem
from db_migrate.goals.common import (
    EXIT_USAGE,
    ComponentOption,
    run_goal,
    selected_setups,
    static_problems,
)
from db_migrate.goals.component_run import build_plan
from db_migrate.goals.reporting import ComponentRun, Reporter, ReportOptions
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.verify_process import VerifyProcessRequest, VerifyProcessResult, source_label
from db_migrate.subsystem import DbMigrationsSubsystem

EXIT_FAILED = 1


class DbVerifySubsystem(GoalSubsystem, ReportOptions, ComponentOption):
    name = "db-verify"
    help = softwrap(
        """
        Verify the selected components' migration histories on a throwaway PostgreSQL (from the
        lockfile, started inside the sandbox; no service needed, no URL used): upgrade from
        empty one revision at a time, downgrade one at a time to base checking after each step that
        the schema equals the schema before the matching upgrade, upgrade to head again, and compare
        the models with the schema (Alembic autogenerate). The first failing revision is named with
        a schema diff. Results are cached by content like `pants test` (locally, and in a remote
        cache when one is configured). Example: `pants db-verify ::`. Knowingly irreversible steps:
        the `verify_skip` and `verify_min_revision` fields of `alembic_migrations`, or `--skip`.
        """
    )

    force = BoolOption(
        default=False,
        help=softwrap(
            """
            Verify again even when the inputs did not change since a successful verification
            (the `pants test --force` convention); the result is then not cached.
            """
        ),
    )
    parallel = IntOption(
        default=0,
        help=softwrap(
            """
            How many components to verify at once, each in its own process with its own
            PostgreSQL: `0` (the default) leaves it to Pants
            (`--process-execution-local-parallelism`, one per CPU core), `1` is one after another.
            """
        ),
    )
    skip = StrListOption(
        default=[],
        metavar="REV",
        help=softwrap(
            """
            Revisions (full ids or unambiguous prefixes) whose downgrade is reverted but not compared,
            in addition to each component's `verify_skip` field, e.g. `--skip=3e993fb20a7b`.
            Each must belong to a selected component. The report lists what they leave behind.
            """
        ),
    )


class DbVerify(Goal):
    subsystem_cls = DbVerifySubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


@dataclasses.dataclass(frozen=True)
class VerifyPolicy:
    """What a component's verification leaves out, as full revision ids."""

    skip: Tuple[str, ...]  # the target's verify_skip field
    cli_skip: Tuple[str, ...]  # --skip (only those of this component)
    min_revision: Optional[str]

    def options(self) -> VerifyOptions:
        return VerifyOptions(
            skip=self.skip,
            cli_skip=tuple(r for r in self.cli_skip if r not in self.skip),
            min_revision=self.min_revision,
        )


def _one_revision(
    setup: ComponentSetup, text: str
) -> Tuple[Optional[str], Optional[str], Tuple[str, ...]]:
    """(revision, why not, suggestions): a full id or unambiguous prefix names exactly one revision."""
    from db_migrate.core.history import TargetError

    history = setup.history()
    try:
        found = history.resolve(text)
    except TargetError as e:
        if e.kind == "ambiguous":
            return (
                None,
                f"'{text}' is ambiguous in {setup.component}: it starts " + ", ".join(e.candidates),
                (),
            )
        return None, None, tuple(e.suggestions or history.closest(text))
    if (
        len(found) != 1
        or text in ("head", "heads", "base")
        or "@" in text
        or "+" in text
        or "-" in text
    ):
        return (
            None,
            f"'{text}' names no single revision of {setup.component}: give a revision id",
            (),
        )
    return found[0], None, ()


def _resolved(
    setup: ComponentSetup, setting: str, texts: Sequence[str], problems: List[Problem]
) -> List[str]:
    """Full ids for `texts`; a typo is a problem, except for --skip (another component's, maybe)."""
    found: List[str] = []
    for text in texts:
        revision, why, suggestions = _one_revision(setup, text.strip())
        if revision:
            if revision not in found:
                found.append(revision)
        elif setting != "--skip":
            problems.append(
                report.verify_revision_unknown(
                    setup.component,
                    setup.field_set.alembic_config.value,
                    setup.selector,
                    setting,
                    text,
                    suggestions,
                    why or "",
                )
            )
    return found


def component_policy(
    setup: ComponentSetup, cli_skip: Sequence[str]
) -> Tuple[VerifyPolicy, Tuple[Problem, ...]]:
    fs = setup.field_set
    problems: List[Problem] = []
    skip = _resolved(setup, "verify_skip", fs.verify_skip.value or (), problems)
    from_cli = _resolved(setup, "--skip", cli_skip, problems)
    minimum = None
    if fs.verify_min_revision.value:
        text = fs.verify_min_revision.value.strip()
        (minimum, *_) = _resolved(setup, "verify_min_revision", [text], problems) or [None]
    return VerifyPolicy(tuple(skip), tuple(from_cli), minimum), tuple(problems)


def unknown_cli_skip(revisions: Sequence[str], components: Sequence[str]) -> Problem:
    return Problem(
        title="Cannot locate revision " + ", ".join(f"'{r}'" for r in revisions),
        details=(
            f"--skip names revisions that are in none of the selected components ({', '.join(components)})",
        ),
        actions=(
            "Check for typos in the revision ids (a unique prefix is enough)",
            "Select the component the revision belongs to, or every one: pants db-verify --skip=REV ::",
            "List a component's revisions: pants db-status --history <component>",
        ),
        kind="verify_revision_unknown",
    )


def bad_parallel(value: int) -> Problem:
    return Problem(
        title=f"Invalid --parallel={value}",
        details=(
            "--parallel is how many components to verify at once: 0 (as many as Pants runs at once) or more",
        ),
        actions=(
            "Use --parallel=0 (the default), --parallel=1 (one after another) or a larger number",
        ),
        kind="invalid_option",
    )


def process_request(
    setup: ComponentSetup, policy: VerifyPolicy, force: bool
) -> VerifyProcessRequest:
    """The cached process's plan: facts from the files and the verify options, no host state."""
    plan = build_plan(setup, policy.options())
    return VerifyProcessRequest(setup.field_set, plan.to_json(), len(setup.revisions), force)


def _batches(items: Sequence[Any], size: int) -> List[Sequence[Any]]:
    if size <= 0:
        return [items]
    return [items[i : i + size] for i in range(0, len(items), size)]


def _show(
    reporter: Reporter, setup: ComponentSetup, result: VerifyProcessResult, cached: Optional[str]
) -> ComponentRun:
    """What one component's process said: its whole log when it ran, its report when replayed."""
    outcome = result.outcome()
    outcome["cached"] = cached
    reporter.say("")
    if cached and result.exit_code == 0 and outcome.get("report"):
        reporter.say(
            f"{setup.component}: verified before with exactly these inputs ({cached}):"
            " the stored report follows, no PostgreSQL started"
        )
        reporter.say(outcome["report"])
    else:
        killed = reporter.relay(setup.component, setup.selector, result)
        if not killed and result.exit_code != 0 and not result.stderr.strip():
            reporter.console.print_stderr(
                f"{report.FAILURE} Error: {setup.component}: verification exited with {result.exit_code}"
            )
    return ComponentRun(setup.component, result.exit_code, outcome)


def summary(console: Console, runs: Sequence[ComponentRun]) -> str:
    parts = []
    for run in runs:
        n = run.outcome.get("revisions") or 0
        cached = run.outcome.get("cached")
        if run.exit_code == 0:
            extra = f", {cached}" if cached else ""
            parts.append(f"{run.component} verified ({n} revision{'s' if n != 1 else ''}{extra})")
        else:
            parts.append(f"{run.component} failed")
    ok = all(r.exit_code == 0 for r in runs)
    sigil = console.sigil_succeeded() if ok else console.sigil_failed()
    verified = sum(1 for r in runs if r.exit_code == 0)
    return f"{sigil} db-verify: {verified}/{len(runs)} components verified: " + ", ".join(parts)


def _policies(
    setups: Sequence[ComponentSetup], cli_skip: Sequence[str]
) -> Tuple[Dict[str, VerifyPolicy], List[Problem]]:
    problems: List[Problem] = []
    policies: Dict[str, VerifyPolicy] = {}
    for setup in setups:
        found = static_problems(setup, refuse_multiple_heads=True)
        if not found:
            policies[setup.component], found = component_policy(setup, cli_skip)
        problems.extend(found)
    if not problems and cli_skip:
        claimed = {text for text in cli_skip for setup in setups if _one_revision(setup, text)[0]}
        unclaimed = [text for text in cli_skip if text not in claimed]
        if unclaimed:
            problems.append(unknown_cli_skip(unclaimed, [s.component for s in setups]))
    return policies, problems


async def _db_verify(
    reporter: Reporter, subsystem: DbVerifySubsystem, specs: Specs, run_id: RunId
) -> int:
    if subsystem.parallel < 0:
        reporter.problem([bad_parallel(subsystem.parallel)])
        return EXIT_USAGE
    setups = await selected_setups(reporter, specs)
    if setups is None:
        return EXIT_USAGE
    if not setups:
        return 0  # --changed-since with nothing relevant changed: nothing to do
    cli_skip = [s.strip() for s in subsystem.skip if s.strip()]
    policies, problems = _policies(setups, cli_skip)
    if problems:
        reporter.problem(problems)
        return EXIT_FAILED

    names = ", ".join(s.component for s in setups)
    at_once = f"{subsystem.parallel} at a time" if subsystem.parallel else "concurrently"
    reporter.say(f"db-verify: {names} ({at_once}, each on a throwaway PostgreSQL of its own)")
    runs: List[ComponentRun] = []
    for batch in _batches(setups, subsystem.parallel):
        results = await MultiGet(
            Get(
                VerifyProcessResult,
                VerifyProcessRequest,
                process_request(s, policies[s.component], subsystem.force),
            )
            for s in batch
        )
        for setup, result in zip(batch, results):
            runs.append(_show(reporter, setup, result, source_label(result.metadata, run_id)))
    reporter.runs.extend(runs)
    if len(runs) > 1:
        reporter.say("")
        reporter.say(summary(reporter.console, runs))
    return next((EXIT_FAILED for r in runs if r.exit_code != 0), 0)


@goal_rule
async def db_verify(
    console: Console,
    subsystem: DbVerifySubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    changed: Changed,
    run_id: RunId,
) -> DbVerify:
    code = await run_goal(
        console,
        subsystem,
        build_root,
        lambda r, s: _db_verify(r, subsystem, s, run_id),
        specs=specs,
        settings=settings,
        changed=changed,
    )
    return DbVerify(exit_code=code)


def rules():
    return collect_rules()

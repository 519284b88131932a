"""`pants db-verify`: round-trip every selected component's history on a throwaway PostgreSQL.

Static pre-flight first (broken files, several heads, `verify_skip`/`verify_min_revision`/`--skip`
naming no revision: nothing starts). Then one interactive runner per resolve (one, in this repo)
that starts its own throwaway server and verifies the components concurrently, each in a child
process running in its component's own venv: Pants runs interactive processes one at a time, so
the parallelism lives in the runner (see `runner/verify.py`). The runner's sandbox holds every
component's venv and sources; it never sees a `<COMPONENT>_DB_URL`, and touches no other database.

Components are independent here, so a failure does not stop the others; the exit code is 0 only
when every selected component verifies.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pants.backend.python.subsystems.setup import PythonSetup
from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.fs import Digest, MergeDigests
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.process import InteractiveProcess, InteractiveProcessResult
from pants.engine.rules import Effect, Get, MultiGet, collect_rules, goal_rule
from pants.option.option_types import IntOption, StrListOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate import report
from db_migrate.component import ComponentSetup
from db_migrate.goals.common import (
    ComponentRun,
    Reporter,
    ReportOptions,
    build_plan,
    gather_setups,
    read_outcome,
    static_problems,
    with_default_specs,
)
from db_migrate.report import Problem
from db_migrate.runner_process import (
    RunnerEnvironment,
    RunnerEnvironmentRequest,
    RunnerProcess,
    RunnerRequest,
)
from db_migrate.selection import ComponentSelection, ComponentSelectionRequest
from db_migrate.subsystem import DbMigrationsSubsystem

EXIT_USAGE = 2
EXIT_FAILED = 1


class DbVerifySubsystem(GoalSubsystem, ReportOptions):
    name = "db-verify"
    help = softwrap(
        """
        Verify the selected components' migration histories on a throwaway PostgreSQL (from the
        lockfile; no service needed, nothing shared with the development database): upgrade from
        empty one revision at a time, downgrade one at a time to base checking after each step that
        the schema equals the schema before the matching upgrade, upgrade to head again, and compare
        the models with the schema (Alembic autogenerate). The first failing revision is named with
        a schema diff. Example: `pants db-verify ::`. Knowingly irreversible steps: the
        `verify_skip` and `verify_min_revision` fields of `alembic_migrations`, or `--skip`.
        """
    )

    parallel = IntOption(
        default=0,
        help=softwrap(
            """
            How many components to verify at once, each in its own database and process:
            `0` (the default) is one per CPU core, at most one per component; `1` is one after another.
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

    skip: Tuple[str, ...]
    min_revision: Optional[str]


def _one_revision(
    setup: ComponentSetup, text: str
) -> Tuple[Optional[str], Optional[str], Tuple[str, ...]]:
    """(revision, why not, suggestions): a full id or unambiguous prefix names exactly one revision."""
    from db_migrate.history import TargetError

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


def component_policy(
    setup: ComponentSetup, cli_skip: Sequence[str]
) -> Tuple[VerifyPolicy, Tuple[Problem, ...]]:
    fs = setup.field_set
    config = fs.alembic_config.value
    problems: List[Problem] = []
    skip: List[str] = []
    wanted = [("verify_skip", s) for s in fs.verify_skip.value or ()] + [
        ("--skip", s) for s in cli_skip
    ]
    for setting, text in wanted:
        revision, why, suggestions = _one_revision(setup, text.strip())
        if revision:
            if revision not in skip:
                skip.append(revision)
        elif setting != "--skip":  # --skip values may belong to another selected component
            problems.append(
                report.verify_revision_unknown(
                    setup.component, config, setup.selector, setting, text, suggestions, why or ""
                )
            )
    min_revision = None
    if fs.verify_min_revision.value:
        text = fs.verify_min_revision.value.strip()
        min_revision, why, suggestions = _one_revision(setup, text)
        if not min_revision:
            problems.append(
                report.verify_revision_unknown(
                    setup.component,
                    config,
                    setup.selector,
                    "verify_min_revision",
                    text,
                    suggestions,
                    why or "",
                )
            )
    return VerifyPolicy(tuple(skip), min_revision), tuple(problems)


def unknown_cli_skip(revisions: Sequence[str], components: Sequence[str]) -> Problem:
    return Problem(
        title="Cannot locate revision " + ", ".join(f"'{r}'" for r in revisions),
        details=(
            f"--skip names revisions that are in none of the selected components ({', '.join(components)})",
        ),
        actions=(
            "Check for typos in the revision ids (a unique prefix is enough)",
            "Select the component the revision belongs to, e.g. pants db-verify --skip=REV src/ai/backend/manager::",
            "List a component's revisions: pants db-status --history <component>",
        ),
        kind="verify_revision_unknown",
    )


def bad_parallel(value: int) -> Problem:
    return Problem(
        title=f"Invalid --parallel={value}",
        details=(
            "--parallel is how many components to verify at once: 0 (one per CPU core) or more",
        ),
        actions=(
            "Use --parallel=0 (the default), --parallel=1 (one after another) or a larger number",
        ),
        kind="invalid_option",
    )


def _child_spec(plan_json: str, environment: RunnerEnvironment) -> Dict[str, Any]:
    """How the runner starts one component's child: its plan, its venv's entry point, its env."""
    return {
        "plan": json.loads(plan_json),
        "argv": [environment.argv0],
        "env": dict(environment.env),
    }


async def _verify_together(
    setups: Sequence[ComponentSetup],
    policies: Dict[str, VerifyPolicy],
    parallel: int,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
    output: str = "text",
) -> ComponentRun:
    """One interactive runner for components that share a resolve (their venvs can share a sandbox)."""
    environments = await MultiGet(
        Get(RunnerEnvironment, RunnerEnvironmentRequest(s.field_set)) for s in setups
    )
    children = [
        _child_spec(
            build_plan(
                setup,
                "verify-component",
                settings,
                build_root,
                {
                    "skip": list(policies[setup.component].skip),
                    "min_revision": policies[setup.component].min_revision,
                },
            ).to_json(),
            environment,
        )
        for setup, environment in zip(setups, environments)
    ]
    names = [s.component for s in setups]
    plan = dataclasses.replace(
        build_plan(
            setups[0],
            "verify",
            settings,
            build_root,
            {"components": children, "parallel": parallel, "output": output},
        ),
        component="db-verify",
        revisions=(),
        heads=(),
    )
    fd, result_file = tempfile.mkstemp(prefix="db-verify-", suffix=".json")
    os.close(fd)
    try:
        runner = await Get(
            RunnerProcess, RunnerRequest(setups[0].field_set, plan.to_json(), result_file)
        )
        first = runner.process.process
        digest = await Get(
            Digest, MergeDigests([first.input_digest, *(e.digest for e in environments[1:])])
        )
        caches: Dict[str, str] = {}
        for environment in environments:
            caches.update(environment.append_only_caches)
        caches.update(first.append_only_caches or {})
        # The runner talks only to its own throwaway server: no component's URL variable reaches it.
        url_vars = {s.field_set.url_env for s in setups}
        process = InteractiveProcess(
            argv=first.argv,
            env={k: v for k, v in first.env.items() if k not in url_vars},
            input_digest=digest,
            run_in_workspace=False,
            append_only_caches=caches,
        )
        result = await Effect(InteractiveProcessResult, InteractiveProcess, process)
        outcome = read_outcome(result_file)
    finally:
        os.unlink(result_file)
    return ComponentRun(", ".join(names), result.exit_code, outcome)


def summary(console: Console, results: Sequence[Dict[str, Any]]) -> str:
    parts = []
    for r in results:
        n = r.get("revisions") or 0
        if r.get("exit_code") == 0:
            parts.append(f"{r['component']} verified ({n} revision{'s' if n != 1 else ''})")
        else:
            parts.append(f"{r['component']} failed")
    ok = all(r.get("exit_code") == 0 for r in results)
    sigil = console.sigil_succeeded() if ok else console.sigil_failed()
    verified = sum(1 for r in results if r.get("exit_code") == 0)
    return f"{sigil} db-verify: {verified}/{len(results)} components verified: " + ", ".join(parts)


async def _db_verify(
    reporter: Reporter,
    subsystem: DbVerifySubsystem,
    settings: DbMigrationsSubsystem,
    python_setup: PythonSetup,
    specs: Specs,
    build_root: BuildRoot,
) -> int:
    if subsystem.parallel < 0:
        reporter.problem([bad_parallel(subsystem.parallel)])
        return EXIT_USAGE
    selection = await Get(ComponentSelection, ComponentSelectionRequest(specs, "db-verify"))
    if selection.problem:
        reporter.problem([selection.problem])
        return EXIT_USAGE

    setups = await gather_setups(selection.field_sets)
    cli_skip = [s.strip() for s in subsystem.skip if s.strip()]
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
    if problems:
        reporter.problem(problems)
        return EXIT_FAILED

    groups: Dict[str, List[ComponentSetup]] = {}
    for setup in setups:
        groups.setdefault(setup.field_set.resolve.normalized_value(python_setup), []).append(setup)
    runs = []
    for group in groups.values():
        runs.append(
            await _verify_together(
                group, policies, subsystem.parallel, settings, build_root, reporter.output
            )
        )
    results = [c for run in runs for c in run.outcome.get("components", ())]
    reporter.runs.extend(ComponentRun(r["component"], r.get("exit_code", 1), r) for r in results)
    if len(setups) > 1 and results:
        reporter.say("")
        reporter.say(summary(reporter.console, results))
    exit_code = next((r.exit_code for r in runs if r.exit_code != 0), 0)
    return exit_code


@goal_rule
async def db_verify(
    console: Console,
    subsystem: DbVerifySubsystem,
    settings: DbMigrationsSubsystem,
    python_setup: PythonSetup,
    specs: Specs,
    build_root: BuildRoot,
    changed: Changed,
) -> DbVerify:
    reporter = Reporter(console, "db-verify", subsystem, build_root)
    specs = with_default_specs(specs, settings, changed, build_root, reporter)
    code = (
        await _db_verify(reporter, subsystem, settings, python_setup, specs, build_root)
        if reporter.check_output()
        else 2
    )
    return DbVerify(exit_code=reporter.finish(code))


def rules():
    return collect_rules()

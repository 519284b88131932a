"""What every db-* goal does the same way: render problems, run a component's runner, sum up."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Sequence, Tuple

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.base.specs_parser import SpecsParser
from pants.engine.console import Console
from pants.engine.process import InteractiveProcess, InteractiveProcessResult
from pants.engine.rules import Effect, Get, MultiGet
from pants.option.option_types import StrOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core import report
from db_migrate.core.contract import DEFAULT_BASE_REF, RunnerPlan
from db_migrate.core.report import Problem
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import PLAN_FILE, RunnerProcess, RunnerRequest
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet

logger = logging.getLogger(__name__)


async def gather_setups(
    field_sets: Sequence[AlembicMigrationsFieldSet],
) -> Tuple[ComponentSetup, ...]:
    """The static pre-flight of every selected component (memoized per revision file)."""
    started = time.perf_counter()
    setups = await MultiGet(Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in field_sets)
    logger.debug(
        "static pre-flight of %d component(s), %d revision files: %.1f ms",
        len(setups),
        sum(len(s.revisions) for s in setups),
        (time.perf_counter() - started) * 1000,
    )
    return tuple(setups)


REPORT_SCHEMA = "pants-db-migrate/report/v1"
OUTPUTS = ("text", "json")


class ReportOptions:
    """`--output` and `--report-file`, shared by every db-* goal (mixed into its subsystem)."""

    output = StrOption(
        default="text",
        metavar="text|json",
        help=softwrap(
            f"""
            `json`: print one JSON report on stdout (schema `{REPORT_SCHEMA}`, see
            docs/report-schema.md) and send everything human-readable to stderr.
            """
        ),
    )
    report_file = StrOption(
        default=None,
        metavar="PATH",
        help="Also write the JSON report to this file (relative to the build root).",
    )


class BaseRefOption:
    """`--base-ref`, shared by the goals that must tell released revisions from your own."""

    base_ref = StrOption(
        default=DEFAULT_BASE_REF,
        metavar="REF",
        help=softwrap(
            """
            The shared branch, as git names it: a revision whose file is on it (or that a release
            pin includes) is released. db-rebase never edits a released revision, and db-migrate
            refuses to run an applied one whose file changed; your own unreleased revisions may be
            edited, downgraded and upgraded again. Without git (or without this ref), only the
            release pins count.
            """
        ),
    )


class Reporter:
    """What a goal says: human text on the console, and the machine-readable report at the end."""

    def __init__(
        self, console: Console, goal: str, options: ReportOptions, build_root: BuildRoot
    ) -> None:
        self.console = console
        self.goal = goal
        self.output = (options.output or "text").strip().lower()
        self.report_file = options.report_file and os.path.join(
            build_root.path, options.report_file
        )
        self.runs: list = []
        self.problems: list = []
        self.skipped: list = []
        # Top-level report entries of one goal (db-dev-server's `server`).
        self.extra: Dict[str, Any] = {}

    @property
    def json(self) -> bool:
        return self.output == "json"

    def say(self, text: str) -> None:
        (self.console.print_stderr if self.json else self.console.print_stdout)(text)

    def problem(self, problems: Iterable[Problem], component: str | None = None) -> None:
        for problem in problems:
            self.problems.append((component, problem))
            if len(self.problems) > 1:
                self.console.print_stderr("")
            self.console.print_stderr(problem.render())

    def runner_options(self) -> Dict[str, Any]:
        return {"output": self.output}

    def add(self, run: ComponentRun) -> ComponentRun:
        self.runs.append(run)
        return run

    def check_output(self) -> bool:
        if self.output in OUTPUTS:
            return True
        bad, self.output = self.output, "text"
        self.problem(
            [
                Problem(
                    title=f"Invalid output '{bad}'",
                    details=("--output is text (the default) or json",),
                    actions=(f"pants {self.goal} --output=json ...",),
                    kind="invalid_output",
                )
            ]
        )
        return False

    def finish(self, exit_code: int) -> int:
        if self.json or self.report_file:
            text = json.dumps(self.report(exit_code), indent=2, sort_keys=True)
            if self.json:
                self.console.print_stdout(text)
            if self.report_file:
                os.makedirs(os.path.dirname(self.report_file) or ".", exist_ok=True)
                with open(self.report_file, "w") as f:
                    f.write(text + "\n")
        return exit_code

    def report(self, exit_code: int) -> Dict[str, Any]:
        components = [
            dict(run.outcome, component=run.component, exit_code=run.exit_code) for run in self.runs
        ]
        components += [{"component": name, "status": "skipped"} for name in self.skipped]
        return {
            "schema": REPORT_SCHEMA,
            "goal": self.goal,
            "exit_code": exit_code,
            "ok": exit_code == 0,
            "components": components,
            "problems": [
                {
                    "component": component,
                    "kind": p.kind,
                    "title": p.title,
                    "details": list(p.details),
                    "actions": list(p.actions),
                }
                for component, p in self.problems
            ],
            **self.extra,
        }


def with_default_specs(
    specs: Specs,
    settings: DbMigrationsSubsystem,
    changed: Changed,
    build_root: BuildRoot,
    reporter: Reporter,
) -> Specs:
    """The specification's default component: `[db-migrations].default_specs` when the command
    line names none (and is no `--changed-*` run, whose empty selection means nothing changed)."""
    if specs.arguments_provided_description() or changed.since or changed.diffspec:
        return specs
    if not settings.default_specs:
        return specs
    reporter.say(
        "No components given: using [db-migrations].default_specs = "
        + " ".join(settings.default_specs)
    )
    return SpecsParser(root_dir=build_root.path).parse_specs(
        settings.default_specs, description_of_origin="[db-migrations].default_specs"
    )


def run_order(reporter: Reporter, setups, direction: str, label: str = "") -> tuple:
    """Upgrades in `migration_order`, downgrades in reverse: the components others build on are
    the first to go up and the last to come down."""
    ordered = tuple(reversed(setups)) if direction == "downgrade" else tuple(setups)
    if len(ordered) > 1:
        why = "the reverse of migration_order" if direction == "downgrade" else "migration_order"
        names = " → ".join(s.component for s in ordered)
        reporter.say(f"Order ({label or direction}, {why}): {names}")
    return ordered


def static_problems(setup: ComponentSetup, *, refuse_multiple_heads: bool) -> Tuple[Problem, ...]:
    """Problems that make running against a database pointless or unsafe."""
    found = setup.problems
    if not found and refuse_multiple_heads and len(setup.heads) > 1:
        found = (report.multiple_heads(setup.component, setup.selector, setup.head_infos()),)
    return found


@dataclass(frozen=True)
class ComponentRun:
    component: str
    exit_code: int
    outcome: Dict[str, Any]


def build_plan(
    setup: ComponentSetup,
    command: str,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
    options: Dict[str, Any],
) -> RunnerPlan:
    fs = setup.field_set
    return RunnerPlan(
        command=command,
        component=setup.component,
        selector=setup.selector,
        config=fs.alembic_config.value,
        url_env=fs.url_env,
        buildroot=build_root.path,
        revisions=setup.revision_facts(),
        heads=tuple(setup.heads),
        options={
            "connect_timeout": settings.connect_timeout,
            "dev_server_port": settings.dev_server_port,
            "dev_server_dir": settings.dev_server_dir,
            "backup_dir": os.path.join(build_root.path, settings.backup_dir),
            "pg_lock_timeout": fs.lock_timeout.value,
            "lock_retries": fs.lock_retries.value,
            "pg_statement_timeout": fs.statement_timeout.value,
            "script_dir": setup.script_dir,
            **options,
        },
    )


async def run_component(
    setup: ComponentSetup,
    *,
    command: str,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
    options: Dict[str, Any],
    reporter: Reporter | None = None,
    lean: bool = False,
) -> ComponentRun:
    """Run one runner command interactively and read back what it did.

    `lean`: the command loads no user code (no env.py, no revision file), so its sandbox holds
    only the runner and the ini (`LeanRunnerEnvironmentRequest`).
    """
    if reporter is not None:
        options = {**reporter.runner_options(), **options}
    plan_json = build_plan(setup, command, settings, build_root, options).to_json()
    # Named like the plan in a cached runner's sandbox, so every runner process is found by it.
    plan_file = _temporary_file(setup.component, f"-{PLAN_FILE}", plan_json)
    result_file = _temporary_file(setup.component, ".json")
    try:
        runner = await Get(RunnerProcess, RunnerRequest(setup.field_set, lean=lean))
        result = await Effect(
            InteractiveProcessResult, InteractiveProcess, runner.interactive(plan_file, result_file)
        )
        outcome = read_outcome(result_file)
    finally:
        os.unlink(result_file)
        os.unlink(plan_file)
    run = ComponentRun(setup.component, result.exit_code, outcome)
    return reporter.add(run) if reporter is not None else run


def _temporary_file(component: str, suffix: str, text: str = "") -> str:
    """A new file only this user may read (`mkstemp`), holding `text`."""
    fd, path = tempfile.mkstemp(prefix=f"db-migrate-{component}-", suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def read_outcome(path: str) -> Dict[str, Any]:
    """The runner's result file (empty when it died before writing one)."""
    try:
        with open(path) as f:
            text = f.read()
        return json.loads(text) if text.strip() else {}
    except (OSError, ValueError):
        return {}


def summary_line(
    console: Console, goal: str, runs: Sequence[ComponentRun], skipped: Sequence[str]
) -> str:
    parts = []
    for run in runs:
        status = run.outcome.get("status") or ("ok" if run.exit_code == 0 else "failed")
        steps = run.outcome.get("steps") or []
        if status == "migrated":
            parts.append(
                f"{run.component} migrated ({len(steps)} revision{'s' if len(steps) != 1 else ''})"
            )
        else:
            parts.append(f"{run.component} {status}")
    parts += [f"{name} skipped" for name in skipped]
    ok = all(r.exit_code == 0 for r in runs) and not skipped
    sigil = console.sigil_succeeded() if ok else console.sigil_failed()
    reached = sum(1 for r in runs if r.exit_code == 0)
    total = len(runs) + len(skipped)
    return f"{sigil} {goal}: {reached}/{total} components reached their target: " + ", ".join(parts)

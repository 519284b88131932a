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
from pants.engine.console import Console
from pants.engine.process import InteractiveProcess, InteractiveProcessResult
from pants.engine.rules import Effect, Get, MultiGet

from db_migrate import report
from db_migrate.component import ComponentSetup
from db_migrate.plan import RevisionFact, RunnerPlan
from db_migrate.report import Problem
from db_migrate.runner_process import RunnerProcess, RunnerRequest
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet

logger = logging.getLogger(__name__)


async def gather_setups(field_sets: Sequence[AlembicMigrationsFieldSet]) -> Tuple[ComponentSetup, ...]:
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


def print_problems(console: Console, problems: Iterable[Problem]) -> None:
    for i, problem in enumerate(problems):
        if i:
            console.print_stderr("")
        console.print_stderr(problem.render())


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
    checksums = dict(setup.checksums)
    return RunnerPlan(
        command=command,
        component=setup.component,
        selector=setup.selector,
        config=fs.alembic_config.value,
        url_env=fs.url_env,
        buildroot=build_root.path,
        revisions=tuple(
            RevisionFact(
                revision=r.revision,
                down_revisions=tuple(r.down_revisions),
                message=r.message,
                path=r.path,
                checksum=checksums.get(r.revision, ""),
            )
            for r in setup.revisions
        ),
        heads=tuple(setup.heads),
        options={
            "connect_timeout": settings.connect_timeout,
            "dev_server_port": settings.dev_server_port,
            "dev_server_dir": settings.dev_server_dir,
            "backup_dir": os.path.join(build_root.path, settings.backup_dir),
            "pg_lock_timeout": fs.lock_timeout.value,
            "pg_statement_timeout": fs.statement_timeout.value,
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
) -> ComponentRun:
    """Run one runner command interactively and read back what it did."""
    plan = build_plan(setup, command, settings, build_root, options)
    fd, result_file = tempfile.mkstemp(prefix=f"db-migrate-{setup.component}-", suffix=".json")
    os.close(fd)
    try:
        runner = await Get(RunnerProcess, RunnerRequest(setup.field_set, plan.to_json(), result_file))
        result = await Effect(InteractiveProcessResult, InteractiveProcess, runner.process)
        outcome = _read_outcome(result_file)
    finally:
        os.unlink(result_file)
    return ComponentRun(setup.component, result.exit_code, outcome)


def _read_outcome(path: str) -> Dict[str, Any]:
    try:
        with open(path) as f:
            text = f.read()
        return json.loads(text) if text.strip() else {}
    except (OSError, ValueError):
        return {}


def summary_line(console: Console, goal: str, runs: Sequence[ComponentRun], skipped: Sequence[str]) -> str:
    parts = []
    for run in runs:
        status = run.outcome.get("status") or ("ok" if run.exit_code == 0 else "failed")
        steps = run.outcome.get("steps") or []
        if status == "migrated":
            parts.append(f"{run.component} migrated ({len(steps)} revision{'s' if len(steps) != 1 else ''})")
        else:
            parts.append(f"{run.component} {status}")
    parts += [f"{name} skipped" for name in skipped]
    ok = all(r.exit_code == 0 for r in runs) and not skipped
    sigil = console.sigil_succeeded() if ok else console.sigil_failed()
    reached = sum(1 for r in runs if r.exit_code == 0)
    total = len(runs) + len(skipped)
    return f"{sigil} {goal}: {reached}/{total} components reached their target: " + ", ".join(parts)


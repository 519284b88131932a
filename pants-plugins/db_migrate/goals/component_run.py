"""One runner command for one component: the plan the goal hands it (typed options, shared
settings, the revisions with their checksums, never a URL), run as an interactive process, and
what it did, read back."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from typing import Any, Dict, Optional, Sequence, Tuple

from pants.base.build_root import BuildRoot
from pants.engine.fs import Digest
from pants.engine.process import InteractiveProcess, InteractiveProcessResult
from pants.engine.rules import Effect, Get

from db_migrate.core.contract import (
    BatchEntry,
    CommandOptions,
    ContractError,
    RunnerBatch,
    RunnerPlan,
    SharedSettings,
    command_of,
)
from db_migrate.goals.reporting import ComponentRun, Reporter
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import (
    PLAN_FILE,
    LeanBatchRunnerRequest,
    RunnerProcess,
    RunnerRequest,
)
from db_migrate.subsystem import DbMigrationsSubsystem

logger = logging.getLogger(__name__)
# The prefix of runner/timing.py's lines: benchmarks/everyday.py reads both.
TIMING_PREFIX = "db-migrate timing:"


def shared_settings(
    setup: ComponentSetup, settings: DbMigrationsSubsystem, build_root: BuildRoot, output: str
) -> SharedSettings:
    """What every interactive runner command may read: `[db-migrations]`, the component's
    timeouts, and where the report goes."""
    fs = setup.field_set
    return SharedSettings(
        output=output,
        connect_timeout=settings.connect_timeout,
        network_timeout=settings.network_timeout,
        dev_server_port=settings.dev_server_port,
        dev_server_dir=settings.dev_server_dir,
        backup_dir=os.path.join(build_root.path, settings.backup_dir),
        pg_lock_timeout=fs.lock_timeout.value or "",
        pg_statement_timeout=fs.statement_timeout.value or "",
        lock_retries=fs.lock_retries.value,
        script_dir=setup.script_dir,
    )


def build_plan(
    setup: ComponentSetup,
    options: CommandOptions,
    shared: SharedSettings | None = None,
    buildroot: str = "",
) -> RunnerPlan:
    """The runner's plan for `options`' command on this component: its revisions (with their
    files' checksums) and heads, never its URL. Without `shared` and `buildroot`: no host state,
    as a cached process needs."""
    fs = setup.field_set
    return RunnerPlan(
        command=command_of(options),
        component=setup.component,
        selector=setup.selector,
        config=fs.alembic_config.value,
        url_env=fs.url_env,
        buildroot=buildroot,
        options=options,
        revisions=setup.revisions,
        heads=tuple(setup.heads),
        shared=shared or SharedSettings(),
    )


def interactive_plan(
    setup: ComponentSetup,
    options: CommandOptions,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
    output: str,
) -> RunnerPlan:
    """The plan `run_component` hands the runner: with the build root and the shared settings."""
    shared = shared_settings(setup, settings, build_root, output)
    return build_plan(setup, options, shared, build_root.path)


async def run_component(
    setup: ComponentSetup,
    options: CommandOptions,
    *,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
    output: str = "text",
    reporter: Reporter | None = None,
    lean: bool = False,
    extra_files: Digest | None = None,
) -> ComponentRun:
    """Run one runner command interactively and read back what it did (added to `reporter`'s
    runs when given, whose `--output` then applies).

    `lean`: the command loads no user code (no env.py, no revision file), so its sandbox holds
    only the runner and the ini (`LeanRunnerEnvironmentRequest`). `extra_files`: more files in
    its sandbox (a snapshot to load).
    """
    if reporter is not None:
        output = reporter.output
    plan_json = interactive_plan(setup, options, settings, build_root, output).to_json()
    # Named like the plan in a cached runner's sandbox, so every runner process is found by it.
    plan_file = _temporary_file(setup.component, f"-{PLAN_FILE}", plan_json)
    result_file = _temporary_file(setup.component, ".json")
    try:
        requested = time.time()
        runner = await Get(
            RunnerProcess, RunnerRequest(setup.field_set, lean=lean, extra_files=extra_files)
        )
        launched = time.time()
        result = await Effect(
            InteractiveProcessResult, InteractiveProcess, runner.interactive(plan_file, result_file)
        )
        log_timing(runner, setup.component, requested, launched)
        outcome = read_outcome(result_file)
    finally:
        os.unlink(result_file)
        os.unlink(plan_file)
    run = ComponentRun(setup.component, result.exit_code, outcome)
    return reporter.add(run) if reporter is not None else run


async def run_batch(
    setups: Sequence[ComponentSetup],
    options: Sequence[CommandOptions],
    *,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
    output: str,
) -> Tuple[Tuple[ComponentRun, BatchEntry], ...]:
    """A read-only command (`BATCHABLE`) for several components in one lean runner process:
    each component's run with what its runner printed, in the order of `setups`, for the goal to
    show as if each had run alone (nothing is printed here, and no reporter is fed)."""
    batch = RunnerBatch(
        tuple(
            interactive_plan(setup, opts, settings, build_root, output)
            for setup, opts in zip(setups, options)
        )
    )
    plan_file = _temporary_file("batch", f"-{PLAN_FILE}", batch.to_json())
    result_file = _temporary_file("batch", ".json")
    try:
        requested = time.time()
        runner = await Get(
            RunnerProcess, LeanBatchRunnerRequest(tuple(s.field_set for s in setups))
        )
        launched = time.time()
        result = await Effect(
            InteractiveProcessResult, InteractiveProcess, runner.interactive(plan_file, result_file)
        )
        log_timing(runner, "+".join(s.component for s in setups), requested, launched)
        entries = read_entries(result_file, len(setups))
    finally:
        os.unlink(result_file)
        os.unlink(plan_file)
    if entries is None:  # the process died before writing its result (what it said was shown)
        failed = BatchEntry(result.exit_code or 1, "", "", {})
        entries = (failed,) * len(setups)
    return tuple(
        (ComponentRun(setup.component, entry.exit_code, dict(entry.outcome)), entry)
        for setup, entry in zip(setups, entries)
    )


def show_printed(reporter: Reporter, entry: BatchEntry) -> None:
    """What a batch's plan printed, where its own runner's output would have gone."""
    if entry.stdout:
        show = reporter.console.print_stderr if reporter.json else reporter.console.print_stdout
        show(entry.stdout, end="")
    if entry.stderr:
        reporter.console.print_stderr(entry.stderr, end="")


def read_entries(path: str, count: int) -> Optional[Tuple[BatchEntry, ...]]:
    """A batch runner's result file: one entry per plan, or None when it has none to give."""
    try:
        with open(path) as f:
            text = f.read()
        entries = BatchEntry.list_from_json(text) if text.strip() else None
    except (OSError, ValueError, ContractError):
        return None
    return entries if entries is not None and len(entries) == count else None


def log_timing(runner: RunnerProcess, component: str, requested: float, launched: float) -> None:
    """With DB_MIGRATE_TIMING set (for benchmarks/everyday.py): when the goal asked for the
    runner's process, launched it and got it back, in epoch seconds like the runner's own line."""
    if runner.env.get("DB_MIGRATE_TIMING"):
        logger.info(
            f"{TIMING_PREFIX} goal {component} requested={requested:.4f} launched={launched:.4f}"
            f" returned={time.time():.4f}"
        )


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

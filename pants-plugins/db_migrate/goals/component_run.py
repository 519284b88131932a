"""One runner command for one component: the plan the goal hands it (typed options, shared
settings, the revisions with their checksums, never a URL), run as an interactive process, and
what it did, read back."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict

from pants.base.build_root import BuildRoot
from pants.engine.fs import Digest
from pants.engine.process import InteractiveProcess, InteractiveProcessResult
from pants.engine.rules import Effect, Get

from db_migrate.core.contract import CommandOptions, RunnerPlan, SharedSettings, command_of
from db_migrate.goals.reporting import ComponentRun, Reporter
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import PLAN_FILE, RunnerProcess, RunnerRequest
from db_migrate.subsystem import DbMigrationsSubsystem


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
        runner = await Get(
            RunnerProcess, RunnerRequest(setup.field_set, lean=lean, extra_files=extra_files)
        )
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

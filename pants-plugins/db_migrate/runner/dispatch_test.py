"""The runner's side of the contract: every command the plugin may send has a module whose `run`
takes exactly that command's options, and a goal that reproduces it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing

import pytest

from db_migrate.core.contract import OPTIONS, RunnerCommand, RunnerPlan
from db_migrate.runner.__main__ import COMMAND_MODULES, GOALS, command_module


def test_the_dispatch_table_covers_exactly_the_commands() -> None:
    assert set(COMMAND_MODULES) == set(RunnerCommand) == set(GOALS)


@pytest.mark.parametrize("command", list(RunnerCommand), ids=lambda c: c.value)
def test_each_command_module_takes_its_commands_options(command: RunnerCommand) -> None:
    run = command_module(command).run
    plan_type = typing.get_type_hints(run)["plan"]
    assert typing.get_origin(plan_type) is RunnerPlan
    assert typing.get_args(plan_type) == (OPTIONS[command],)


def test_a_plan_the_runner_cannot_read_is_our_bug_without_a_traceback(tmp_path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"command": "verify-component"}))
    result = subprocess.run(
        [sys.executable, "-m", "db_migrate.runner", str(plan)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("❌ Error: the migration runner cannot read its plan:")
    assert "bug in pants-db-migrate" in result.stderr and "Traceback" not in result.stderr


def _plan(command: RunnerCommand) -> RunnerPlan:
    return RunnerPlan(command, "manager", "src::", "alembic.ini", "DB_URL", "", OPTIONS[command]())


@pytest.mark.parametrize(
    "command, status, at_once",
    [
        (RunnerCommand.STATUS, "ok", True),
        (RunnerCommand.LOAD_SNAPSHOT, "loaded", True),
        (RunnerCommand.LOAD_SNAPSHOT, "error", True),
        (RunnerCommand.MIGRATE, "up-to-date", True),
        (RunnerCommand.MIGRATE, "ok", False),
        (RunnerCommand.VERIFY, "ok", False),
    ],
)
def test_which_runs_end_without_the_interpreters_teardown(
    command: RunnerCommand, status: str, at_once: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only runs that imported no user code (whose exit handlers must run) skip the teardown."""
    from db_migrate.core.outcome import Outcome
    from db_migrate.runner.__main__ import _nothing_open

    outcome = Outcome(component="manager", command=command.value, status=status)
    monkeypatch.delitem(sys.modules, "alembic", raising=False)
    assert _nothing_open(_plan(command), outcome) is at_once
    monkeypatch.setitem(sys.modules, "alembic", sys)  # as if env.py had been loaded
    assert _nothing_open(_plan(command), outcome) is (command is RunnerCommand.STATUS)

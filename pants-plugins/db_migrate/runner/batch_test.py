"""A batch runs its plans concurrently and hands back what each printed, in the batch's order."""

from __future__ import annotations

import sys
import threading

from db_migrate.core.contract import (
    BatchEntry,
    RunnerBatch,
    RunnerCommand,
    RunnerPlan,
    StatusOptions,
)
from db_migrate.core.outcome import Outcome
from db_migrate.runner.batch import run_batch


def _plan(component: str) -> RunnerPlan:
    return RunnerPlan(
        RunnerCommand.STATUS,
        component,
        f"src/{component}::",
        "alembic.ini",
        "URL",
        "/repo",
        StatusOptions(),
    )


def test_each_plan_prints_into_its_own_entry_in_the_batch_order(tmp_path) -> None:
    # The first plan waits until the last has printed: output interleaves in time, not in entries.
    last_done = threading.Event()

    def run_plan(plan: RunnerPlan):
        if plan.component == "a":
            assert last_done.wait(10)
        print(f"{plan.component}: out")
        print(f"{plan.component}: err", file=sys.stderr)
        if plan.component == "c":
            last_done.set()
        outcome = Outcome(component=plan.component, command="status", status="ok")
        return (1 if plan.component == "b" else 0), outcome

    result = tmp_path / "result.json"
    real = sys.stdout, sys.stderr
    assert run_batch(RunnerBatch(tuple(map(_plan, "abc"))), run_plan, str(result)) == 0
    assert (sys.stdout, sys.stderr) == real
    entries = BatchEntry.list_from_json(result.read_text())
    assert [(e.exit_code, e.stdout, e.stderr) for e in entries] == [
        (0, "a: out\n", "a: err\n"),
        (1, "b: out\n", "b: err\n"),
        (0, "c: out\n", "c: err\n"),
    ]
    assert [e.outcome["component"] for e in entries] == ["a", "b", "c"]

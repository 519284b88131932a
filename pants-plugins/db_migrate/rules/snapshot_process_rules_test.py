"""The process that builds a snapshot, prepared but not run: what its cache key holds and what it
hands over (`snapshot_process.py`). The venv is `component_repo`'s stand-in (the component's files
and its ini with the URL, which the hermetic environment must cut out)."""

from __future__ import annotations

import json
from typing import Any, Dict

from pants.engine.internals.selectors import Get
from pants.engine.rules import rule
from pants.testutil.rule_runner import RuleRunner

from db_migrate.core.contract import (
    SNAPSHOT_FILE,
    SNAPSHOT_TOC_FILE,
    RunnerCommand,
    RunnerPlan,
    SnapshotOptions,
)
from db_migrate.goals.from_snapshot import snapshot_request
from db_migrate.rules import snapshot_process
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import PLAN_FILE
from db_migrate.rules.snapshot_process import SnapshotProcess, SnapshotRequest
from db_migrate.testsupport import component_repo as repo

IDS = ("1a2b3c4d5e6f", "2b3c4d5e6f70", "3c4d5e6f7081")


@rule
async def describe(request: SnapshotRequest) -> repo.Described:
    prepared = await Get(SnapshotProcess, SnapshotRequest, request)
    return repo.Described(await repo.described(prepared.process))


def _clone() -> RuleRunner:
    return repo.cached_process_runner(
        snapshot_process.snapshot_process, describe, SnapshotRequest, IDS
    )


def _prepared(runner: RuleRunner, label: str) -> Dict[str, Any]:
    setup = runner.request(ComponentSetup, [repo.field_set(runner, "billing")])
    return dict(runner.request(repo.Described, [snapshot_request(setup, label)]))


def test_head_and_its_id_are_one_process_without_url_or_host_path() -> None:
    """`head` and the head's id are one cache key: the plan holds full revision ids, and the
    ini's URL (password, host) and this clone's path are cut out."""
    runner = _clone()
    head = _prepared(runner, "head")
    assert _prepared(runner, IDS[2]) == head
    assert repo.secrets_in(head) == []
    assert runner.build_root not in json.dumps(head)
    assert head["cache_scope"] == "SUCCESSFUL"
    plan = RunnerPlan.from_json(head["inputs"][PLAN_FILE])
    assert plan.command is RunnerCommand.SNAPSHOT and plan.buildroot == ""
    assert plan.options == SnapshotOptions(target=(IDS[2],))
    assert _prepared(runner, IDS[1])["inputs"][PLAN_FILE] != head["inputs"][PLAN_FILE]


def test_the_snapshot_and_its_table_of_contents_are_its_outputs() -> None:
    """What the load reads travels in the cache with the dump: the listing beside it, so that no
    load runs `pg_restore --list` again."""
    prepared = _prepared(_clone(), "head")
    assert sorted(prepared["output_files"]) == sorted(
        [prepared["env"]["DB_MIGRATE_RESULT_FILE"], SNAPSHOT_FILE, SNAPSHOT_TOC_FILE]
    )
    assert SNAPSHOT_TOC_FILE == "__db_snapshot__.list"

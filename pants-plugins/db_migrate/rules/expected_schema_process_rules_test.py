"""The process `db-status --drift` runs for the expected schema, prepared but not run: what its
cache key holds (`expected_schema_process.py`). The venv is `component_repo`'s stand-in (the
component's files and its ini with the URL, which the hermetic environment must cut out)."""

from __future__ import annotations

import json
import time
from typing import Any, Dict

from pants.engine.internals.selectors import Get
from pants.engine.rules import rule
from pants.testutil.rule_runner import RuleRunner

from db_migrate.core.contract import ExpectedSchemaOptions, RunnerCommand, RunnerPlan
from db_migrate.goals.drift import expected_request
from db_migrate.rules import expected_schema_process
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.expected_schema_process import ExpectedSchemaProcess, ExpectedSchemaRequest
from db_migrate.rules.runner_process import PLAN_FILE
from db_migrate.testsupport.component_repo import (
    Described,
    cached_process_runner,
    described,
    field_set,
    secrets_in,
)

IDS = ("1a2b3c4d5e6f", "2b3c4d5e6f70", "3c4d5e6f7081")


@rule
async def describe(request: ExpectedSchemaRequest) -> Described:
    prepared = await Get(ExpectedSchemaProcess, ExpectedSchemaRequest, request)
    return Described(await described(prepared.process))


def _clone() -> RuleRunner:
    return cached_process_runner(
        expected_schema_process.expected_schema_process, describe, ExpectedSchemaRequest, IDS
    )


def _prepared(runner: RuleRunner, revision: str) -> Dict[str, Any]:
    setup = runner.request(ComponentSetup, [field_set(runner, "billing")])
    return dict(runner.request(Described, [expected_request(setup, [revision])]))


def test_the_inputs_hold_the_revision_and_no_url_host_path_or_time() -> None:
    """The ini's URL (password, host) is cut out; the same scripts and revision on another clone
    a second later are the same process (the same cache key); another revision is another."""
    runner = _clone()
    first = _prepared(runner, IDS[1])
    assert secrets_in(first) == []
    assert runner.build_root not in json.dumps(first)
    assert (
        "\nsqlalchemy.url = postgresql+psycopg://\n"
        in first["inputs"]["services/billing/alembic.ini"]
    )
    assert first["cache_scope"] == "SUCCESSFUL"
    assert first["env"]["DB_MIGRATE_RESULT_FILE"] == first["output_files"][0]
    plan = RunnerPlan.from_json(first["inputs"][PLAN_FILE])
    assert plan.command is RunnerCommand.EXPECTED_SCHEMA and plan.buildroot == ""
    assert plan.options == ExpectedSchemaOptions((IDS[1],))

    time.sleep(1.1)
    other = _clone()
    assert other.build_root != runner.build_root
    assert _prepared(other, IDS[1]) == first
    assert _prepared(other, IDS[2])["inputs"][PLAN_FILE] != first["inputs"][PLAN_FILE]

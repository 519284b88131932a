"""The process `pants db-verify` would run for a component, from the goal's options to its inputs.

The goal runs in an engine as the command line would run it. Two rules are replaced: the one that
runs the prepared process (`run_verify_process`), by `describe_instead_of_running`, which asks for
the same `VerifyProcess` and puts a description of it into the component's outcome (the goal's
JSON report carries it out); and the venv, by `component_repo`'s stand-in (the component's files
and its ini with the URL, which the real `hermetic_runner_environment` must cut out). No venv,
no PostgreSQL.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Optional

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.engine.rules import Get, rule
from pants.testutil.rule_runner import RuleRunner

from db_migrate.core.contract import RunnerPlan
from db_migrate.goals import verify
from db_migrate.goals.verify import DbVerify
from db_migrate.rules import component_setup, selection, verify_process
from db_migrate.rules.cached_runner import cached_runner_process
from db_migrate.rules.runner_process import PLAN_FILE, hermetic_runner_environment
from db_migrate.rules.verify_process import VerifyProcess, VerifyProcessRequest, VerifyProcessResult
from db_migrate.testsupport.component_repo import (
    STAND_IN_PYTHON,
    URL,
    chain,
    component_dir,
    component_files,
    described,
    ini_text,
    new_rule_runner,
    ran_here,
    rules_except,
    secrets_in,
    stand_in_runner_environment,
)

IDS = ("1a2b3c4d5e6f", "2b3c4d5e6f70", "3c4d5e6f7081", "4d5e6f708192")
DIRECTORY = component_dir("billing")


@rule
async def describe_instead_of_running(request: VerifyProcessRequest) -> VerifyProcessResult:
    """A successful verification whose outcome is the description of the prepared process."""
    prepared = await Get(VerifyProcess, VerifyProcessRequest, request)
    outcome = {"revisions": request.revisions, "prepared": await described(prepared.process)}
    return VerifyProcessResult(0, "", "", json.dumps(outcome), ran_here())


def _clone() -> RuleRunner:
    """The repo in a new build root, with an engine of its own."""
    runner = new_rule_runner(
        [
            *verify.rules(),
            *selection.rules(),
            *component_setup.rules(),
            *rules_except(verify_process.rules(), verify_process.run_verify_process),
            hermetic_runner_environment,
            cached_runner_process,
            stand_in_runner_environment,
            describe_instead_of_running,
        ]
    )
    runner.write_files(
        {
            **component_files(
                "billing",
                chain(*IDS),
                fields='verify_skip=["2b3c"], verify_min_revision="1a2b"',
            ),
            # Any ini the component's sources hold loses its URL too.
            f"{DIRECTORY}/tests.ini": ini_text("%(here)s", url=URL),
        }
    )
    return runner


@pytest.fixture
def rule_runner() -> RuleRunner:
    return _clone()


def _verify(runner: RuleRunner, *args: str, env: Optional[Dict[str, str]] = None):
    result = runner.run_goal_rule(
        DbVerify, args=["--output=json", *args, "services/billing::"], env=env
    )
    return result.exit_code, json.loads(result.stdout)


def _prepared(runner: RuleRunner, *args: str, **kwargs) -> Dict[str, Any]:
    exit_code, report = _verify(runner, *args, **kwargs)
    assert exit_code == 0, report["problems"]
    [component] = report["components"]
    return component["prepared"]


def test_the_process_is_cacheable_unless_forced(rule_runner: RuleRunner) -> None:
    """Like `pants test`: a verified history is not verified again (`SUCCESSFUL` caches successes
    only); `--force` runs it again and keeps the result out of the cache."""
    assert _prepared(rule_runner)["cache_scope"] == "SUCCESSFUL"
    assert _prepared(rule_runner, "--force")["cache_scope"] == "PER_SESSION"


def test_the_inputs_hold_no_url_host_path_or_time(rule_runner: RuleRunner) -> None:
    """The same files on any clone, at any time, are the same cache key: no part of the ini's
    URL or of the URL variable, no path of this machine, nothing that changes from run to run
    (another clone a second later, with an engine of its own, prepares the same process)."""
    environment = {"BILLING_DB_URL": URL}
    first = _prepared(rule_runner, env=environment)
    assert secrets_in(first) == []
    assert rule_runner.build_root not in json.dumps(first)
    for ini in ("services/billing/alembic.ini", f"{DIRECTORY}/tests.ini"):
        assert "\nsqlalchemy.url = postgresql+psycopg://\n" in first["inputs"][ini], ini
    assert first["argv"] == ["{chroot}/" + STAND_IN_PYTHON, "{chroot}/" + PLAN_FILE]
    assert first["env"]["DB_MIGRATE_RESULT_FILE"] == first["output_files"][0]
    assert not any(value.startswith("/") for value in first["env"].values())
    plan = json.loads(first["inputs"][PLAN_FILE])
    assert (plan["command"], plan["buildroot"], plan["heads"]) == ("verify", "", [IDS[-1]])
    assert [r["revision"] for r in plan["revisions"]] == list(IDS)
    assert f"{DIRECTORY}/versions/{IDS[0]}_step.py" in first["inputs"]

    time.sleep(1.1)  # a timestamp of the second would differ now
    other = _clone()
    assert other.build_root != rule_runner.build_root
    assert _prepared(other, env=environment) == first


def test_the_skip_options_reach_the_plan_as_full_ids(rule_runner: RuleRunner) -> None:
    """`verify_skip`, `verify_min_revision` and `--skip` take unambiguous prefixes; the runner
    gets full ids, and a `--skip` the field already names once."""
    plan_json = _prepared(rule_runner, "--skip=3c4d", "--skip=2b3c")["inputs"][PLAN_FILE]
    options = RunnerPlan.from_json(plan_json).options
    assert (options.skip, options.cli_skip, options.min_revision) == (
        (IDS[1],),
        (IDS[2],),
        IDS[0],
    )


def test_a_skip_naming_no_revision_stops_before_any_process(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            f"{DIRECTORY}/BUILD": component_files("billing", fields='verify_skip=["9f9f"]')[
                f"{DIRECTORY}/BUILD"
            ]
        }
    )
    exit_code, report = _verify(rule_runner)
    assert exit_code == 1 and report["components"] == []
    [problem] = report["problems"]
    assert (problem["kind"], problem["title"]) == (
        "verify_revision_unknown",
        "Cannot locate revision '9f9f'",
    )


def test_a_cli_skip_of_no_selected_component_is_refused(rule_runner: RuleRunner) -> None:
    exit_code, report = _verify(rule_runner, "--skip=9f9f")
    assert exit_code == 1 and report["components"] == []
    assert [p["kind"] for p in report["problems"]] == ["verify_revision_unknown"]
    assert "--skip names revisions that are in none of the selected components (billing)" in (
        report["problems"][0]["details"]
    )

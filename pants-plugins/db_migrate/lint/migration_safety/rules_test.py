"""The migration-safety lint in an engine: which revisions it checks, and the process each gets.

Nothing runs squawk or Alembic here. Two rules are replaced: `install_squawk` by a placeholder
executable, and `revision_safety` (which runs the process) by `describe_instead_of_running`,
which asks for the same `RevisionSafetyProcess` and answers with a description of it instead of
its output. The component's environment is `component_repo`'s stand-in: its files and its ini
with the URL, which the real `hermetic_runner_environment` must cut out.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.core.goals.lint import LintResult
from pants.core.util_rules.partitions import Partitions
from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent
from pants.engine.rules import Get, QueryRule, rule
from pants.testutil.rule_runner import RuleRunner
from pants.util.frozendict import FrozenDict

from db_migrate.lint.migration_safety import rules as migration_safety
from db_migrate.lint.migration_safety.report import ComponentSafety
from db_migrate.lint.migration_safety.rules import (
    ComponentSafetyRequest,
    MigrationSafetyRequest,
    RevisionSafety,
    RevisionSafetyProcess,
    RevisionSafetyRequest,
    Squawk,
)
from db_migrate.rules import component_setup
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import PLAN_FILE, hermetic_runner_environment
from db_migrate.target_types import AlembicMigrationsFieldSet
from db_migrate.testsupport.component_repo import (
    STAND_IN_PYTHON,
    Rev,
    chain,
    component_dir,
    component_files,
    described,
    field_set,
    lint,
    new_rule_runner,
    options,
    rules_except,
    secrets_in,
    stand_in_runner_environment,
)

DIRECTORY = component_dir("billing")
SQUAWK = "stand-in-squawk/bin/squawk"
WITH_SQUAWK = "--migration-safety-install-from-resolve=migration-safety"


@rule
async def stand_in_squawk() -> Squawk:
    digest = await Get(Digest, CreateDigest([FileContent(SQUAWK, b"", is_executable=True)]))
    return Squawk(digest, "{chroot}/" + SQUAWK, FrozenDict())


@rule
async def describe_instead_of_running(request: RevisionSafetyRequest) -> RevisionSafety:
    """A clean result for the revision, carrying the process it would have run."""
    prepared = await Get(RevisionSafetyProcess, RevisionSafetyRequest, request)
    result = {"revision": request.revision, "path": request.path, "findings": [], "ignored": []}
    result.update(problems=[], process=await described(prepared.process))
    return RevisionSafety(json.dumps(result))


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = new_rule_runner(
        [
            *rules_except(
                migration_safety.rules(),
                migration_safety.install_squawk,
                migration_safety.revision_safety,
            ),
            *component_setup.rules(),
            hermetic_runner_environment,
            stand_in_runner_environment,
            stand_in_squawk,
            describe_instead_of_running,
        ],
        QueryRule(Partitions, [MigrationSafetyRequest.PartitionRequest]),
        QueryRule(LintResult, [MigrationSafetyRequest.Batch]),
        QueryRule(ComponentSetup, [AlembicMigrationsFieldSet]),
        QueryRule(ComponentSafety, [ComponentSafetyRequest]),
        QueryRule(DigestContents, [Digest]),
    )
    runner.set_options(options(WITH_SQUAWK))
    return runner


def _reports(runner: RuleRunner, result: LintResult) -> Dict[str, Dict[str, Any]]:
    contents = runner.request(DigestContents, [result.report])
    return {c.path: json.loads(c.content) for c in contents}


PINNED = component_files("billing", chain("a1", "b2", "c3", "d4"), fields='release_pins="pins.txt"')


def test_unreleased_revisions_by_default_all_with_the_option(rule_runner: RuleRunner) -> None:
    """Released = the newest pin and its ancestors; a component without pins has none."""
    rule_runner.write_files(
        {**PINNED, f"{DIRECTORY}/pins.txt": "1.0 = a1\n1.1 = b2\n", **component_files("audit")}
    )
    result = lint(rule_runner, MigrationSafetyRequest, "billing", "audit")
    assert result.exit_code == 0
    reports = _reports(rule_runner, result)
    assert reports["billing.json"]["checked"] == ["c3", "d4"]
    assert reports["billing.json"]["released_skipped"] == 2
    assert reports["audit.json"]["checked"] == ["a1", "b2", "c3"]
    assert "2 released skipped (newest release 1.1 = b2;" in result.stdout

    rule_runner.set_options(options(WITH_SQUAWK, "--migration-safety-all"))
    everything = _reports(rule_runner, lint(rule_runner, MigrationSafetyRequest, "billing"))
    assert everything["billing.json"]["checked"] == ["a1", "b2", "c3", "d4"]


def test_skip_leaves_no_partition(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(component_files("billing"))
    rule_runner.set_options(options(WITH_SQUAWK, "--migration-safety-skip"))
    request = MigrationSafetyRequest.PartitionRequest((field_set(rule_runner, "billing"),))
    assert len(rule_runner.request(Partitions, [request])) == 0


def _processes(runner: RuleRunner) -> Dict[str, Dict[str, Any]]:
    """Each checked revision's described process, every revision selected."""
    setup = runner.request(ComponentSetup, [field_set(runner, "billing")])
    safety = runner.request(ComponentSafety, [ComponentSafetyRequest(setup, True)])
    return {result["revision"]: result["process"] for result in safety.results}


MERGE = (
    Rev("a1"),
    Rev("b2", "a1"),
    Rev("c3", "a1"),
    Rev("d4", ("b2", "c3"), depends_on=("a1",)),
)


def test_a_revisions_process_holds_its_file_and_names_its_parents(rule_runner: RuleRunner) -> None:
    """The sandbox has the component's environment and this one revision file: not the other
    revisions, the template or the release pins, so editing one revision re-lints that one.
    The plan names the parents (down revisions, then `depends_on`), for which the runner writes
    empty stand-ins next to the file."""
    files = component_files("billing", MERGE, fields='release_pins="pins.txt"')
    rule_runner.write_files({**files, f"{DIRECTORY}/pins.txt": "1.0 = a1\n"})
    process = _processes(rule_runner)["d4"]
    inputs = process["inputs"]
    assert sorted(inputs) == sorted(
        [
            PLAN_FILE,
            "services/billing/alembic.ini",
            f"{DIRECTORY}/env.py",
            f"{DIRECTORY}/versions/d4_step.py",
            STAND_IN_PYTHON,
            SQUAWK,
        ]
    )
    plan = json.loads(inputs[PLAN_FILE])
    assert (plan["command"], plan["buildroot"]) == ("migration-safety", "")
    assert plan["options"]["revision"] == "d4"
    assert plan["options"]["path"] == f"{DIRECTORY}/versions/d4_step.py"
    assert plan["options"]["parents"] == ["b2", "c3", "a1"]
    assert plan["options"]["squawk"] == "{chroot}/" + SQUAWK
    assert process["argv"] == ["{chroot}/" + STAND_IN_PYTHON, "{chroot}/" + PLAN_FILE]
    assert process["cache_scope"] == "SUCCESSFUL"


def test_no_part_of_the_url_reaches_the_process(rule_runner: RuleRunner) -> None:
    """Only the dialect stays: Alembic's offline mode needs it, and it holds no secret."""
    rule_runner.write_files(component_files("billing"))
    for revision, process in _processes(rule_runner).items():
        assert secrets_in(process) == [], revision
        ini = process["inputs"]["services/billing/alembic.ini"]
        assert "sqlalchemy.url = postgresql+psycopg://\n" in ini
        assert "script_location = %(here)s/migrations\n" in ini


def _timeouts(lock: str, statement: str) -> Dict[str, str]:
    fields = f'lock_timeout="{lock}", statement_timeout="{statement}"'
    return {f"{DIRECTORY}/BUILD": component_files("billing", fields=fields)[f"{DIRECTORY}/BUILD"]}


def test_a_timeouts_value_is_not_part_of_the_cache_key(rule_runner: RuleRunner) -> None:
    """Whether a timeout is set changes squawk's verdict; its value does not, and changing it
    must not re-lint a whole history."""
    rule_runner.write_files({**component_files("billing"), **_timeouts("30s", "0")})
    thirty = _processes(rule_runner)
    rule_runner.write_files(_timeouts("60s", "0"))
    assert _processes(rule_runner) == thirty
    rule_runner.write_files(_timeouts("0", "0"))
    unset = _processes(rule_runner)
    assert json.loads(unset["b2"]["inputs"][PLAN_FILE])["options"]["timeouts_set"] is False
    assert json.loads(thirty["b2"]["inputs"][PLAN_FILE])["options"]["timeouts_set"] is True


def test_a_broken_history_is_left_to_alembic_history(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(component_files("billing", (Rev("a1"), Rev("b2", "a0"))))
    result = lint(rule_runner, MigrationSafetyRequest, "billing")
    assert result.exit_code == 1
    report = _reports(rule_runner, result)["billing.json"]
    assert report["checked"] == []
    assert [p["kind"] for p in report["problems"]] == ["migration_safety_history"]
    assert "pants lint --only=alembic-history services/billing/migrations:migrations" in (
        result.stdout
    )


def test_without_a_resolve_the_lint_says_how_to_set_one(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(component_files("billing"))
    rule_runner.set_options(options())
    result = lint(rule_runner, MigrationSafetyRequest, "billing")
    assert result.exit_code == 1
    lines: List[str] = result.stdout.splitlines()
    assert lines[0] == "❌ Error: squawk has no lockfile"
    assert any('install_from_resolve = "migration-safety"' in line for line in lines)

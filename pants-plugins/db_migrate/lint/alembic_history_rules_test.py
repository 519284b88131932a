"""The alembic-history lint in an engine: partitions, what it reports, what it compiles.

The compile check normally runs the runner's `syntax` command in the runner's venv; here
`compile_in_this_process` takes its place and does what that command does (`compile_revision_file`
on each file of the plan, the same JSON answer), so the lint rule's own decisions run unchanged:
which files reach a check, how its errors become problems, what a broken history reports.
"""

from __future__ import annotations

import json
from typing import List

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.core.goals.lint import LintResult
from pants.core.util_rules.partitions import Partitions
from pants.engine.fs import EMPTY_DIGEST, EMPTY_FILE_DIGEST, Digest, DigestContents
from pants.engine.process import FallibleProcessResult
from pants.engine.rules import Get, QueryRule, rule
from pants.testutil.rule_runner import RuleRunner

from db_migrate.core.contract import RunnerPlan
from db_migrate.core.revision_file import RevisionFileError, compile_revision_file
from db_migrate.core.source_archive import unpack
from db_migrate.lint import alembic_history
from db_migrate.lint.alembic_history import AlembicHistoryLintRequest, CompiledFiles, SyntaxCheck
from db_migrate.rules import component_setup
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import RunnerCheckRequest
from db_migrate.target_types import AlembicMigrationsFieldSet
from db_migrate.testsupport.component_repo import (
    Rev,
    chain,
    component_dir,
    component_files,
    field_set,
    lint,
    new_rule_runner,
    options,
    ran_here,
    revision_source,
    stand_in_lean_environment,
)

VERSIONS = f"{component_dir('billing')}/versions"


def _ran(stdout: str) -> FallibleProcessResult:
    return FallibleProcessResult(
        stdout=stdout.encode(),
        stdout_digest=EMPTY_FILE_DIGEST,
        stderr=b"",
        stderr_digest=EMPTY_FILE_DIGEST,
        exit_code=0,
        output_digest=EMPTY_DIGEST,
        metadata=ran_here(),
    )


@rule
async def compile_in_this_process(request: RunnerCheckRequest) -> FallibleProcessResult:
    """The runner's `syntax` command on the files the check was given, with a first line naming
    them (the real command prints only the JSON line, which is all the lint reads)."""
    options = RunnerPlan.from_json(request.plan_json).options
    given = await Get(DigestContents, Digest, request.files)
    assert [c.path for c in given] == [options.archive], "one archive, nothing else"
    contents = unpack(given[0].content)
    paths = options.paths
    errors = []
    for path in paths:
        try:
            compile_revision_file(path, contents[path])
        except RevisionFileError as e:
            errors.append({"path": e.path, "line": e.line or 0, "message": e.message})
    return _ran(f"compiled {' '.join(sorted(contents))}\n" + json.dumps({"errors": errors}))


@pytest.fixture
def rule_runner(monkeypatch: pytest.MonkeyPatch) -> RuleRunner:
    # Which files compiled cleanly is kept for the life of the process: each test starts afresh.
    monkeypatch.setattr(alembic_history, "COMPILED", CompiledFiles())
    return new_rule_runner(
        [
            *alembic_history.rules(),
            *component_setup.rules(),
            stand_in_lean_environment,
            compile_in_this_process,
        ],
        QueryRule(Partitions, [AlembicHistoryLintRequest.PartitionRequest]),
        QueryRule(LintResult, [AlembicHistoryLintRequest.Batch]),
        QueryRule(ComponentSetup, [AlembicMigrationsFieldSet]),
        QueryRule(SyntaxCheck, [ComponentSetup]),
    )


def test_every_component_is_in_one_partition_and_skip_leaves_none(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({**component_files("billing"), **component_files("audit")})
    field_sets = (field_set(rule_runner, "billing"), field_set(rule_runner, "audit"))
    request = AlembicHistoryLintRequest.PartitionRequest(field_sets)
    partitions = rule_runner.request(Partitions, [request])
    assert [tuple(p.elements) for p in partitions] == [field_sets]
    rule_runner.set_options(options("--alembic-history-skip"))
    assert len(rule_runner.request(Partitions, [request])) == 0


def test_a_clean_and_a_broken_history(rule_runner: RuleRunner) -> None:
    """Each component in name order: a summary line when clean, its problems in the
    specification's blocks when not; the lint fails if any component has one."""
    broken = (Rev("a1"), Rev("b2", "a0"))
    rule_runner.write_files({**component_files("billing"), **component_files("audit", broken)})
    result = lint(rule_runner, AlembicHistoryLintRequest, "billing", "audit")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "audit (services/audit/migrations:migrations): 1 problem"
    assert lines[1] == "❌ Error: Migration file not found"
    assert "Details: Revision 'a0' of audit is referenced but no file defines it" in lines
    assert lines[-1] == "billing: 3 revisions, single head c3"


def test_diverged_heads_fail_the_lint(rule_runner: RuleRunner) -> None:
    revisions = (Rev("a1"), Rev("b2", "a1"), Rev("c3", "a1"))
    rule_runner.write_files(component_files("billing", revisions))
    result = lint(rule_runner, AlembicHistoryLintRequest, "billing")
    assert result.exit_code == 1
    assert "❌ Error: Multiple heads detected" in result.stdout
    assert "billing has 2 heads" in result.stdout


def test_each_broken_file_is_reported_once(rule_runner: RuleRunner) -> None:
    """A file whose header reads but whose body does not compile is found by the compile check;
    a file whose header cannot be read is reported by the pre-flight alone, not twice."""
    body_error = f"{VERSIONS}/d4_step.py"
    header_error = f"{VERSIONS}/e5_step.py"
    rule_runner.write_files(
        {
            **component_files("billing"),
            body_error: revision_source(Rev("d4", "c3")) + "\nreturn 1\n",
            header_error: 'revision = "e5"\ndown_revision = ("d4"\n',
        }
    )
    result = lint(rule_runner, AlembicHistoryLintRequest, "billing")
    assert result.exit_code == 1
    blocks = result.stdout.split("❌ Error: ")[1:]
    assert [b.splitlines()[0] for b in blocks] == ["Cannot parse revision file"] * 2
    assert [_files_named(b) for b in blocks] == [[header_error], [body_error]]
    assert "'return' outside function" in blocks[1]


def _files_named(block: str) -> List[str]:
    return sorted({word.split(":")[0] for word in block.split() if word.startswith(VERSIONS)})


def test_only_revision_files_are_compiled_and_an_edit_recompiles_one(
    rule_runner: RuleRunner,
) -> None:
    rule_runner.write_files(component_files("billing", chain("a1", "b2", "c3", "d4")))
    setup = rule_runner.request(ComponentSetup, [field_set(rule_runner, "billing")])
    first = rule_runner.request(SyntaxCheck, [setup])
    every_file = " ".join(f"{VERSIONS}/{r}_step.py" for r in ("a1", "b2", "c3", "d4"))
    assert [r.stdout.decode().splitlines()[0] for r in first.results] == [f"compiled {every_file}"]

    edited = f"{VERSIONS}/c3_step.py"
    rule_runner.write_files({edited: revision_source(Rev("c3", "b2", message="Edited"))})
    setup = rule_runner.request(ComponentSetup, [field_set(rule_runner, "billing")])
    second = rule_runner.request(SyntaxCheck, [setup])
    assert [r.stdout.decode().splitlines()[0] for r in second.results] == [f"compiled {edited}"]

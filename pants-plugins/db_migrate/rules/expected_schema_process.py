"""The schema a component's scripts give at a revision, as a regular, cacheable `Process`.

`db-status --drift` compares a live database with this. The process is built like the cached
`db-verify` (`verify_process.py`): the hermetic runner environment (no URL in any ini), the plan
(revisions, heads and the recorded revision(s): files' facts only), a PostgreSQL started inside
the sandbox. So the same scripts at the same revision are one cache key on any clone: the second
`--drift` on a database at that revision replays nothing and starts no PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, collect_rules, rule

from db_migrate.rules.cached_runner import CachedRunnerRequest, CachedRunnerResult, finished
from db_migrate.target_types import AlembicMigrationsFieldSet

OUTCOME_FILE = "__db_expected_schema__.json"


@dataclass(frozen=True)
class ExpectedSchemaRequest:
    field_set: AlembicMigrationsFieldSet
    plan_json: str  # a RunnerPlan of command `expected-schema`: plain facts, no host state
    label: str  # the revision(s), for the process's description


@dataclass(frozen=True)
class ExpectedSchemaResult(CachedRunnerResult):
    """A finished replay of the expected schema: its output and the objects it found."""

    def objects(self) -> List[List[str]]:
        """`[kind, parent, name, description]` rows (empty when the replay failed)."""
        return list(self.outcome().get("objects") or [])


@dataclass(frozen=True)
class ExpectedSchemaProcess:
    """The process apart from running it, so what its cache key holds can be checked."""

    process: Process


@rule(desc="Prepare the replay of a component's expected schema")
async def expected_schema_process(request: ExpectedSchemaRequest) -> ExpectedSchemaProcess:
    fs = request.field_set
    description = (
        f"Replay {fs.component_name}'s schema at {request.label} (on a throwaway PostgreSQL)"
    )
    process = await Get(
        Process, CachedRunnerRequest(fs, request.plan_json, description, OUTCOME_FILE)
    )
    return ExpectedSchemaProcess(process)


@rule(desc="Replay a component's expected schema")
async def run_expected_schema(request: ExpectedSchemaRequest) -> ExpectedSchemaResult:
    prepared = await Get(ExpectedSchemaProcess, ExpectedSchemaRequest, request)
    result = await Get(FallibleProcessResult, Process, prepared.process)
    return await finished(ExpectedSchemaResult, result, OUTCOME_FILE)


def rules():
    return collect_rules()

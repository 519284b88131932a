"""The schema a component's scripts give at a revision, as a regular, cacheable `Process`.

`db-status --drift` compares a live database with this. The process is built like the cached
`db-verify` (`verify_process.py`): the hermetic runner environment (no URL in any ini), the plan
(revisions, heads and the recorded revision(s): files' facts only), a PostgreSQL started inside
the sandbox. So the same scripts at the same revision are one cache key on any clone: the second
`--drift` on a database at that revision replays nothing and starts no PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List

from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent, MergeDigests
from pants.engine.process import FallibleProcessResult, Process, ProcessResultMetadata
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.logging import LogLevel

from db_migrate.rules.runner_process import (
    PLAN_FILE,
    REMOTE_CACHE_PATIENCE_MS,
    HermeticRunnerEnvironment,
    RunnerEnvironmentRequest,
)
from db_migrate.target_types import AlembicMigrationsFieldSet

OUTCOME_FILE = "__db_expected_schema__.json"


@dataclass(frozen=True)
class ExpectedSchemaRequest:
    field_set: AlembicMigrationsFieldSet
    plan_json: str  # a RunnerPlan of command `expected-schema`: plain facts, no host state
    label: str  # the revision(s), for the process's description


@dataclass(frozen=True)
class ExpectedSchemaResult:
    exit_code: int
    stdout: str
    stderr: str
    outcome_json: str  # the runner's Outcome (empty when it died before writing one)
    metadata: ProcessResultMetadata

    def outcome(self) -> Dict[str, Any]:
        try:
            return json.loads(self.outcome_json) if self.outcome_json.strip() else {}
        except ValueError:
            return {}

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
    environment, plan_digest = await MultiGet(
        Get(HermeticRunnerEnvironment, RunnerEnvironmentRequest(fs)),
        Get(Digest, CreateDigest([FileContent(PLAN_FILE, request.plan_json.encode())])),
    )
    digest = await Get(Digest, MergeDigests([environment.digest, plan_digest]))
    return ExpectedSchemaProcess(
        Process(
            argv=(environment.argv0, "{chroot}/" + PLAN_FILE),
            env={
                **environment.env,
                "PYTHONUNBUFFERED": "1",
                "DB_MIGRATE_RESULT_FILE": OUTCOME_FILE,
            },
            input_digest=digest,
            append_only_caches=environment.append_only_caches,
            output_files=(OUTCOME_FILE,),
            description=(
                f"Replay {fs.component_name}'s schema at {request.label} (on a throwaway"
                " PostgreSQL)"
            ),
            level=LogLevel.INFO,
            # Waits for a remote cache's answer rather than starting a PostgreSQL for nothing.
            remote_cache_speculation_delay_millis=REMOTE_CACHE_PATIENCE_MS,
        )
    )


@rule(desc="Replay a component's expected schema")
async def run_expected_schema(request: ExpectedSchemaRequest) -> ExpectedSchemaResult:
    prepared = await Get(ExpectedSchemaProcess, ExpectedSchemaRequest, request)
    result = await Get(FallibleProcessResult, Process, prepared.process)
    contents = await Get(DigestContents, Digest, result.output_digest)
    outcome = next((c.content.decode() for c in contents if c.path == OUTCOME_FILE), "")
    return ExpectedSchemaResult(
        exit_code=result.exit_code,
        stdout=result.stdout.decode("utf-8", "replace"),
        stderr=result.stderr.decode("utf-8", "replace"),
        outcome_json=outcome,
        metadata=result.metadata,
    )


def rules():
    return collect_rules()

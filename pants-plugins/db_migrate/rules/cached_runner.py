"""A runner command as a regular, cacheable `Process`: what db-verify, the snapshot and the
expected schema of `db-status --drift` have in common.

Its sandbox holds the hermetic runner environment (the component's venv, sources and runner, every
ini's URL cut to its dialect) and the plan, nothing from the host; the command starts its own
PostgreSQL inside it. So the same inputs are the same cache key on any clone, locally or in a
remote cache, and a failure is not cached (the default `SUCCESSFUL` scope).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Tuple, Type, TypeVar

from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent, MergeDigests
from pants.engine.process import (
    FallibleProcessResult,
    Process,
    ProcessCacheScope,
    ProcessResultMetadata,
)
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.logging import LogLevel

from db_migrate.rules.runner_process import (
    PLAN_FILE,
    REMOTE_CACHE_PATIENCE_MS,
    HermeticRunnerEnvironment,
    RunnerEnvironmentRequest,
)
from db_migrate.target_types import AlembicMigrationsFieldSet

RESULT_ENV = "DB_MIGRATE_RESULT_FILE"  # where the runner writes its outcome


@dataclass(frozen=True)
class CachedRunnerRequest:
    field_set: AlembicMigrationsFieldSet
    plan_json: str  # a RunnerPlan of plain facts: no URL, no host path, no time
    description: str
    outcome_file: str  # the runner's outcome, one of the process's output files
    more_outputs: Tuple[str, ...] = ()
    cache_scope: ProcessCacheScope = ProcessCacheScope.SUCCESSFUL


@rule(desc="Prepare a cached runner process", level=LogLevel.DEBUG)
async def cached_runner_process(request: CachedRunnerRequest) -> Process:
    environment, plan_digest = await MultiGet(
        Get(HermeticRunnerEnvironment, RunnerEnvironmentRequest(request.field_set)),
        Get(Digest, CreateDigest([FileContent(PLAN_FILE, request.plan_json.encode())])),
    )
    digest = await Get(Digest, MergeDigests([environment.digest, plan_digest]))
    return Process(
        argv=(environment.argv0, "{chroot}/" + PLAN_FILE),
        env={**environment.env, "PYTHONUNBUFFERED": "1", RESULT_ENV: request.outcome_file},
        input_digest=digest,
        append_only_caches=environment.append_only_caches,
        output_files=(*request.more_outputs, request.outcome_file),
        description=request.description,
        level=LogLevel.INFO,
        cache_scope=request.cache_scope,
        # With a remote cache, Pants would start the process at once while it asks the server
        # (speculation): a PostgreSQL for nothing. Wait for the answer instead.
        remote_cache_speculation_delay_millis=REMOTE_CACHE_PATIENCE_MS,
    )


@dataclass(frozen=True)
class CachedRunnerResult:
    """A finished cached runner process: what it printed, and the Outcome the runner wrote."""

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


R = TypeVar("R", bound=CachedRunnerResult)


async def finished(kind: Type[R], result: FallibleProcessResult, outcome_file: str) -> R:
    """The process's result as `kind`, with the outcome file it wrote ("" when it wrote none)."""
    contents = await Get(DigestContents, Digest, result.output_digest)
    outcome = next((c.content.decode() for c in contents if c.path == outcome_file), "")
    return kind(
        exit_code=result.exit_code,
        stdout=result.stdout.decode("utf-8", "replace"),
        stderr=result.stderr.decode("utf-8", "replace"),
        outcome_json=outcome,
        metadata=result.metadata,
    )


def rules():
    return collect_rules()

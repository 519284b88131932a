"""One component's `db-verify` as a regular, cacheable `Process`, like a test under `pants test`.

The process starts its own PostgreSQL inside its sandbox (see `runner/verify.py`), so its inputs
are exactly what can change the result: the component's venv (the lockfile's distributions,
PostgreSQL's binaries among them), its sources and what they import (revision files, env.py, the
models, shared modules), the runner, the ini without its URL, and the plan (revisions, heads and
the verify options). No URL, no host path, no timestamp: the same inputs on any clone are the
same cache key, locally or in a remote cache. A failure is never cached (the default
`SUCCESSFUL` scope), and `--force` runs it again anyway (`PER_SESSION`, as `pants test --force`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Optional

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

OUTCOME_FILE = "__db_verify_outcome__.json"


@dataclass(frozen=True)
class VerifyProcessRequest:
    field_set: AlembicMigrationsFieldSet
    plan_json: str  # a RunnerPlan of command `verify`: plain facts, no host state
    revisions: int
    force: bool


@dataclass(frozen=True)
class VerifyProcessResult:
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


@dataclass(frozen=True)
class VerifyProcess:
    """The process `verify_process` builds, apart from running it: what its cache key is made of
    can be checked without a venv or a PostgreSQL (`verify_process_rules_test.py`)."""

    process: Process


@rule(desc="Prepare a hermetic db-verify")
async def verify_process(request: VerifyProcessRequest) -> VerifyProcess:
    fs = request.field_set
    environment, plan_digest = await MultiGet(
        Get(HermeticRunnerEnvironment, RunnerEnvironmentRequest(fs)),
        Get(Digest, CreateDigest([FileContent(PLAN_FILE, request.plan_json.encode())])),
    )
    digest = await Get(Digest, MergeDigests([environment.digest, plan_digest]))
    plural = "s" if request.revisions != 1 else ""
    return VerifyProcess(
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
                f"Verify {fs.component_name}'s migrations ({request.revisions} revision{plural},"
                " on a throwaway PostgreSQL)"
            ),
            level=LogLevel.INFO,
            cache_scope=(
                ProcessCacheScope.PER_SESSION if request.force else ProcessCacheScope.SUCCESSFUL
            ),
            # With a remote cache, Pants would start the process at once while it asks the
            # server (speculation): a PostgreSQL for nothing. Wait for the answer instead.
            remote_cache_speculation_delay_millis=REMOTE_CACHE_PATIENCE_MS,
        )
    )


@rule(desc="Verify a component's migrations")
async def run_verify_process(request: VerifyProcessRequest) -> VerifyProcessResult:
    prepared = await Get(VerifyProcess, VerifyProcessRequest, request)
    result = await Get(FallibleProcessResult, Process, prepared.process)
    contents = await Get(DigestContents, Digest, result.output_digest)
    outcome = next((c.content.decode() for c in contents if c.path == OUTCOME_FILE), "")
    return VerifyProcessResult(
        exit_code=result.exit_code,
        stdout=result.stdout.decode("utf-8", "replace"),
        stderr=result.stderr.decode("utf-8", "replace"),
        outcome_json=outcome,
        metadata=result.metadata,
    )


def source_label(metadata: ProcessResultMetadata, run_id) -> Optional[str]:
    """`cached locally`, `cached remotely`, `memoized`: where a result came from (None: it ran)."""
    source = metadata.source(run_id)
    return {
        ProcessResultMetadata.Source.HIT_LOCALLY: "cached locally",
        ProcessResultMetadata.Source.HIT_REMOTELY: "cached remotely",
        ProcessResultMetadata.Source.MEMOIZED: "cached in memory by pantsd",
    }.get(source)


def rules():
    return collect_rules()

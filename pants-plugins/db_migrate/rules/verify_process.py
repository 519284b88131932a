"""One component's `db-verify` as a regular, cacheable `Process`, like a test under `pants test`.

The process starts its own PostgreSQL inside its sandbox (see `runner/commands/verify.py`), so its inputs
are exactly what can change the result: the component's venv (the lockfile's distributions,
PostgreSQL's binaries among them), its sources and what they import (revision files, env.py, the
models, shared modules), the runner, the ini without its URL, and the plan (revisions, heads and
the verify options). No URL, no host path, no timestamp: the same inputs on any clone are the
same cache key, locally or in a remote cache. A failure is never cached (the default
`SUCCESSFUL` scope), and `--force` runs it again anyway (`PER_SESSION`, as `pants test --force`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pants.engine.process import (
    FallibleProcessResult,
    Process,
    ProcessCacheScope,
    ProcessResultMetadata,
)
from pants.engine.rules import Get, collect_rules, rule

from db_migrate.rules.cached_runner import CachedRunnerRequest, CachedRunnerResult, finished
from db_migrate.target_types import AlembicMigrationsFieldSet

OUTCOME_FILE = "__db_verify_outcome__.json"


@dataclass(frozen=True)
class VerifyProcessRequest:
    field_set: AlembicMigrationsFieldSet
    plan_json: str  # a RunnerPlan of command `verify`: plain facts, no host state
    revisions: int
    force: bool


@dataclass(frozen=True)
class VerifyProcessResult(CachedRunnerResult):
    """A finished verification: its output and the runner's report (`outcome()`)."""


@dataclass(frozen=True)
class VerifyProcess:
    """The process `verify_process` builds, apart from running it: what its cache key is made of
    can be checked without a venv or a PostgreSQL (`verify_process_rules_test.py`)."""

    process: Process


@rule(desc="Prepare a hermetic db-verify")
async def verify_process(request: VerifyProcessRequest) -> VerifyProcess:
    fs = request.field_set
    plural = "s" if request.revisions != 1 else ""
    process = await Get(
        Process,
        CachedRunnerRequest(
            fs,
            request.plan_json,
            f"Verify {fs.component_name}'s migrations ({request.revisions} revision{plural},"
            " on a throwaway PostgreSQL)",
            OUTCOME_FILE,
            cache_scope=(
                ProcessCacheScope.PER_SESSION if request.force else ProcessCacheScope.SUCCESSFUL
            ),
        ),
    )
    return VerifyProcess(process)


@rule(desc="Verify a component's migrations")
async def run_verify_process(request: VerifyProcessRequest) -> VerifyProcessResult:
    prepared = await Get(VerifyProcess, VerifyProcessRequest, request)
    result = await Get(FallibleProcessResult, Process, prepared.process)
    return await finished(VerifyProcessResult, result, OUTCOME_FILE)


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

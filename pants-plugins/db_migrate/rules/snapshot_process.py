"""A component's database at a revision as a build artifact: the cached half of
`db-migrate --from-snapshot`.

The same kind of process as db-verify's (`verify_process.py`): the component's hermetic
environment (venv, sources, runner, the ini without its URL) and a plan of plain facts (the
revisions with their checksums, the target as full revision ids), a PostgreSQL started inside
the sandbox, nothing read from the host. Its output file is the snapshot
(`runner/snapshot/capture.py`), so Pants caches it like any process output: the same inputs on
any clone, locally or through a remote cache, give the snapshot without starting a PostgreSQL.
A failed replay is not cached (the default `SUCCESSFUL` scope).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pants.engine.fs import (
    Digest,
    DigestContents,
    DigestSubset,
    PathGlobs,
)
from pants.engine.process import FallibleProcessResult, Process, ProcessResultMetadata
from pants.engine.rules import Get, MultiGet, collect_rules, rule

from db_migrate.core.contract import SNAPSHOT_FILE, SNAPSHOT_TOC_FILE
from db_migrate.rules.cached_runner import CachedRunnerRequest
from db_migrate.rules.verify_process import OUTCOME_FILE
from db_migrate.target_types import AlembicMigrationsFieldSet


@dataclass(frozen=True)
class SnapshotRequest:
    field_set: AlembicMigrationsFieldSet
    plan_json: str  # a RunnerPlan of command `snapshot`: plain facts, no host state
    revisions: int  # how many the replay applies (for the description only)
    target_label: str  # as the user wrote it (for the description only)


@dataclass(frozen=True)
class SnapshotProcess:
    """The process `snapshot_process` builds, apart from running it (its cache key is checkable)."""

    process: Process


@dataclass(frozen=True)
class SnapshotResult:
    exit_code: int
    stdout: str
    stderr: str
    snapshot: Digest  # SNAPSHOT_FILE and its table of contents (empty when the process failed)
    seconds: float  # what the replay took when it ran (from the outcome)
    metadata: ProcessResultMetadata


@rule(desc="Prepare a database snapshot")
async def snapshot_process(request: SnapshotRequest) -> SnapshotProcess:
    fs = request.field_set
    plural = "s" if request.revisions != 1 else ""
    description = (
        f"Snapshot {fs.component_name} at {request.target_label} (replay of"
        f" {request.revisions} revision{plural} on a throwaway PostgreSQL)"
    )
    process = await Get(
        Process,
        CachedRunnerRequest(
            fs,
            request.plan_json,
            description,
            OUTCOME_FILE,
            more_outputs=(SNAPSHOT_FILE, SNAPSHOT_TOC_FILE),
        ),
    )
    return SnapshotProcess(process)


@rule(desc="Snapshot a component's database")
async def run_snapshot_process(request: SnapshotRequest) -> SnapshotResult:
    prepared = await Get(SnapshotProcess, SnapshotRequest, request)
    result = await Get(FallibleProcessResult, Process, prepared.process)
    snapshot, outcome = await MultiGet(
        Get(
            Digest,
            DigestSubset(result.output_digest, PathGlobs([SNAPSHOT_FILE, SNAPSHOT_TOC_FILE])),
        ),
        Get(DigestContents, DigestSubset(result.output_digest, PathGlobs([OUTCOME_FILE]))),
    )
    try:
        seconds = float(json.loads(outcome[0].content.decode())["seconds"]) if outcome else 0.0
    except (ValueError, KeyError, TypeError):
        seconds = 0.0
    return SnapshotResult(
        exit_code=result.exit_code,
        stdout=result.stdout.decode("utf-8", "replace"),
        stderr=result.stderr.decode("utf-8", "replace"),
        snapshot=snapshot,
        seconds=seconds,
        metadata=result.metadata,
    )


def rules():
    return collect_rules()

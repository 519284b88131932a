"""`pants fmt`, `fix` and `lint` with ruff and Black on revision files, exactly as on Python sources.

Each request type here selects `alembic_migrations` targets and hands its batch on as a batch of
Pants' own backend (`BlackRequest.Batch`, `RuffFixRequest.Batch`, `RuffLintRequest.Batch`), so the
tools run from their own lockfiles with the repo's `[black]`/`[ruff]` options and config files,
and report under their own names (`--only=black` covers both kinds of files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pants.backend.python.lint.black.rules import BlackRequest
from pants.backend.python.lint.black.subsystem import Black
from pants.backend.python.lint.ruff.rules import RuffFixRequest, RuffLintRequest
from pants.backend.python.lint.ruff.subsystem import Ruff
from pants.core.goals.fix import AbstractFixRequest, FixResult, FixTargetsRequest
from pants.core.goals.fmt import FmtResult, FmtTargetsRequest
from pants.core.goals.lint import AbstractLintRequest, LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import FieldSet
from pants.util.logging import LogLevel

from db_migrate.target_types import AlembicRevisionsField


@dataclass(frozen=True)
class RevisionFilesFieldSet(FieldSet):
    required_fields = (AlembicRevisionsField,)

    # Named like the field of Pants' Python field sets: ruff's lint rule reads `.source`.
    source: AlembicRevisionsField


class RevisionFilesBlackRequest(FmtTargetsRequest):
    field_set_type = RevisionFilesFieldSet
    tool_subsystem = Black
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


class RevisionFilesRuffFixRequest(FixTargetsRequest):
    field_set_type = RevisionFilesFieldSet
    tool_subsystem = Ruff
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION
    tool_name = RuffFixRequest.tool_name


class RevisionFilesRuffLintRequest(LintTargetsRequest):
    field_set_type = RevisionFilesFieldSet
    tool_subsystem = Ruff
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


@rule(desc="Format revision files with Black", level=LogLevel.DEBUG)
async def black_fmt_revision_files(
    request: RevisionFilesBlackRequest.Batch, black: Black
) -> FmtResult:
    # Black's own batches carry the interpreter constraints to run it with; revision files run in
    # the components' resolves, whatever they are: Black's configured constraints.
    batch = BlackRequest.Batch(
        request.tool_name, request.elements, black.interpreter_constraints, request.snapshot
    )
    return await Get(FmtResult, AbstractFixRequest.Batch, batch)


@rule(desc="Fix revision files with ruff", level=LogLevel.DEBUG)
async def ruff_fix_revision_files(request: RevisionFilesRuffFixRequest.Batch) -> FixResult:
    batch = RuffFixRequest.Batch(
        request.tool_name, request.elements, request.partition_metadata, request.snapshot
    )
    return await Get(FixResult, AbstractFixRequest.Batch, batch)


@rule(desc="Lint revision files with ruff", level=LogLevel.DEBUG)
async def ruff_lint_revision_files(
    request: RevisionFilesRuffLintRequest.Batch[RevisionFilesFieldSet, Any]
) -> LintResult:
    batch = RuffLintRequest.Batch(request.tool_name, request.elements, request.partition_metadata)
    return await Get(LintResult, AbstractLintRequest.Batch, batch)


def rules():
    return [
        *collect_rules(),
        *RevisionFilesBlackRequest.rules(),
        *RevisionFilesRuffFixRequest.rules(),
        *RevisionFilesRuffLintRequest.rules(),
    ]

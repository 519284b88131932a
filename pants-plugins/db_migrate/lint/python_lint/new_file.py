"""A file a goal wrote (db-create-migration's revision) through the repo's own `fix` and `fmt` tools.

Whatever fixers and formatters the repo enabled for its component's target (ruff and Black here,
through `db_migrate.lint.python_lint`) run on the new file exactly as `pants fix fmt` would: their
lockfiles, options and config files, fixers first, each on the previous one's output. So a
generated file passes `pants lint` as written. A repo without such tools gets the file as
`script.py.mako` rendered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from pants.core.goals.fix import AbstractFixRequest, FixResult, FixTargetsRequest
from pants.core.util_rules.partitions import Partitions
from pants.engine.addresses import Address
from pants.engine.fs import CreateDigest, FileContent
from pants.engine.internals.native_engine import Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import WrappedTarget, WrappedTargetRequest
from pants.engine.unions import UnionMembership
from pants.util.logging import LogLevel


@dataclass(frozen=True)
class NewFileFormatRequest:
    """A file written during this run (the engine has not read it): its owner and content."""

    owner: Address
    path: str
    content: bytes


@dataclass(frozen=True)
class NewFileFormatted:
    snapshot: Snapshot  # the file after every tool
    changed_by: Tuple[str, ...]  # the tools that changed it, in order


def _fix_requests_for(target, union_membership: UnionMembership) -> list:
    """Fixers then formatters (`pants fix` order) whose field set applies to the target."""
    return sorted(
        (
            request_type
            for request_type in union_membership.get(AbstractFixRequest)
            if issubclass(request_type, FixTargetsRequest)
            and request_type.field_set_type.is_applicable(target)
        ),
        key=lambda request_type: not request_type.is_fixer,
    )


@rule(desc="Format a new file with the repo's tools", level=LogLevel.DEBUG)
async def format_new_file(
    request: NewFileFormatRequest, union_membership: UnionMembership
) -> NewFileFormatted:
    wrapped = await Get(
        WrappedTarget,
        WrappedTargetRequest(request.owner, description_of_origin="the file a goal wrote"),
    )
    snapshot = await Get(Snapshot, CreateDigest([FileContent(request.path, request.content)]))
    changed_by = []
    for request_type in _fix_requests_for(wrapped.target, union_membership):
        field_set = request_type.field_set_type.create(wrapped.target)
        partitions = await Get(  # noqa: PNT30: each tool works on the previous one's output
            Partitions,
            FixTargetsRequest.PartitionRequest,
            request_type.PartitionRequest((field_set,)),
        )
        if not partitions:  # the tool is skipped (`[black].skip`, ...)
            continue
        batch = request_type.Batch(
            request_type.tool_name, (request.path,), partitions[0].metadata, snapshot
        )
        result = await Get(FixResult, AbstractFixRequest.Batch, batch)  # noqa: PNT30
        if result.did_change:
            changed_by.append(request_type.tool_name)
        snapshot = result.output
    return NewFileFormatted(snapshot, tuple(changed_by))


def rules():
    return collect_rules()

"""The revision files reach every sandbox that needs them as plain files, not as Python sources.

Alembic loads revision files by path, so nothing imports them as modules: one `alembic_migrations`
target owns them all (its `sources` field), with no target, dependency inference or engine node per
file. Anything that puts `files` into a sandbox (the runner's environment, a `python_tests` target
depending on the component) gets them through this identity "codegen": Pants' own way of letting
a sources field stand in for another kind.
"""

from __future__ import annotations

from pants.core.target_types import FileSourceField
from pants.engine.rules import collect_rules, rule
from pants.engine.target import GeneratedSources, GenerateSourcesRequest
from pants.engine.unions import UnionRule

from db_migrate.target_types import AlembicRevisionsField


class RevisionFilesAsFilesRequest(GenerateSourcesRequest):
    input = AlembicRevisionsField
    output = FileSourceField
    exportable = False


@rule(desc="Revision files as files")
async def revision_files_as_files(request: RevisionFilesAsFilesRequest) -> GeneratedSources:
    return GeneratedSources(request.protocol_sources)


def rules():
    return [*collect_rules(), UnionRule(GenerateSourcesRequest, RevisionFilesAsFilesRequest)]

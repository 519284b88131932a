"""Infer what an `alembic_migrations` target needs at run time from the files around it.

The ini file, `env.py` (and through its own inference the models and third-party packages),
`script.py.mako`, the revision files' Python owners and the release-pins file: a BUILD file
only has to say which component it is.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from pants.engine.fs import PathGlobs, Paths
from pants.engine.internals.graph import Owners, OwnersRequest
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import (
    FieldSet,
    HydratedSources,
    HydrateSourcesRequest,
    InferDependenciesRequest,
    InferredDependencies,
)
from pants.engine.unions import UnionRule
from pants.option.global_options import GlobMatchErrorBehavior

from db_migrate.target_types import (
    AlembicConfigField,
    AlembicMigrationsDependenciesField,
    AlembicRevisionsField,
    ReleasePinsField,
)


@dataclass(frozen=True)
class AlembicMigrationsInferenceFieldSet(FieldSet):
    required_fields = (
        AlembicMigrationsDependenciesField,
        AlembicConfigField,
        AlembicRevisionsField,
    )

    dependencies: AlembicMigrationsDependenciesField
    alembic_config: AlembicConfigField
    sources: AlembicRevisionsField
    release_pins: ReleasePinsField


class InferAlembicMigrationsDependencies(InferDependenciesRequest):
    infer_from = AlembicMigrationsInferenceFieldSet


@rule(desc="Infer alembic_migrations dependencies")
async def infer_alembic_migrations_dependencies(
    request: InferAlembicMigrationsDependencies,
) -> InferredDependencies:
    fs = request.field_set
    here = fs.address.spec_path
    hydrated = await Get(HydratedSources, HydrateSourcesRequest(fs.sources))
    paths = [
        fs.alembic_config.value,
        posixpath.join(here, "env.py"),
        posixpath.join(here, "script.py.mako"),
        *hydrated.snapshot.files,
    ]
    if fs.release_pins.value:  # a file, or a folder of <release>.json files
        pins = posixpath.join(here, fs.release_pins.value)
        found = await Get(
            Paths,
            PathGlobs(
                [pins, posixpath.join(pins, "*.json")],
                glob_match_error_behavior=GlobMatchErrorBehavior.ignore,
            ),
        )
        paths.extend(found.files)
    owners = await Get(Owners, OwnersRequest(tuple(paths)))
    return InferredDependencies(address for address in owners if address != fs.address)


def rules():
    return [
        *collect_rules(),
        UnionRule(InferDependenciesRequest, InferAlembicMigrationsDependencies),
    ]

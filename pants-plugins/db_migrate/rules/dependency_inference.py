"""Infer what an `alembic_migrations` target needs at run time from the files around it.

The ini file, `env.py` (and through its own inference the models and third-party packages),
`script.py.mako`, the release-pins file, and the modules the revision files import: a BUILD file
only has to say which component it is.

The revision files are the target's own sources, not targets of their own: a history of 10,000
files then costs one snapshot and one pass over its text, not 10,000 targets with an inference
each (see docs/benchmarks.md, `scale`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import FrozenSet

from pants.backend.python.dependency_inference.module_mapper import (
    PythonModuleOwners,
    PythonModuleOwnersRequest,
)
from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import PythonResolveField
from pants.engine.fs import (
    Digest,
    DigestContents,
    PathGlobs,
    Paths,
)
from pants.engine.internals.graph import Owners, OwnersRequest
from pants.engine.rules import Get, MultiGet, collect_rules, rule
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

# `import a.b as c, d` and `from a.b import c` anywhere in a file (module level or in a function).
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?"
    r"(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?)*))",
    re.MULTILINE,
)


def _modules_of(text: bytes) -> FrozenSet[str]:
    """Every absolute module an import statement of this file names (a superset is harmless:
    a module nothing in the repo provides infers nothing)."""
    modules = set()
    for from_module, names in _IMPORT.findall(text.decode("utf-8", "replace")):
        if from_module:
            modules.add(from_module)
        else:
            modules.update(part.split()[0] for part in names.split(","))
    return frozenset(modules)


async def _revision_imports(digest: Digest) -> FrozenSet[str]:
    """The modules the snapshot's files import. Read again after any edit of the history (a memo
    of each file's imports saved under 10% of that run: docs/benchmarks.md, `speed_code`)."""
    found: set = set()
    for content in await Get(DigestContents, Digest, digest):
        found |= _modules_of(content.content)
    return frozenset(found)


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
    resolve: PythonResolveField


class InferAlembicMigrationsDependencies(InferDependenciesRequest):
    infer_from = AlembicMigrationsInferenceFieldSet


@rule(desc="Infer alembic_migrations dependencies")
async def infer_alembic_migrations_dependencies(
    request: InferAlembicMigrationsDependencies, python_setup: PythonSetup
) -> InferredDependencies:
    fs = request.field_set
    here = fs.address.spec_path
    paths = [
        fs.alembic_config.value,
        posixpath.join(here, "env.py"),
        posixpath.join(here, "script.py.mako"),
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
    owners, hydrated = await MultiGet(
        Get(Owners, OwnersRequest(tuple(paths))),
        Get(HydratedSources, HydrateSourcesRequest(fs.sources)),
    )
    modules = await _revision_imports(hydrated.snapshot.digest)
    resolve = fs.resolve.normalized_value(python_setup)
    module_owners = await MultiGet(
        Get(PythonModuleOwners, PythonModuleOwnersRequest(module, resolve=resolve, locality=here))
        for module in sorted(modules)
    )
    imported = {address for found in module_owners for address in found.unambiguous}
    return InferredDependencies(
        address for address in sorted({*owners, *imported}) if address != fs.address
    )


def rules():
    return [
        *collect_rules(),
        UnionRule(InferDependenciesRequest, InferAlembicMigrationsDependencies),
    ]

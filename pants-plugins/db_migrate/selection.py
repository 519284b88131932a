"""Which components a command line selects, spec by spec.

Each spec must select at least one `alembic_migrations` target: `pants db-migrate src/ai/backend/web::`
is a mistake to report, not an empty success. The result is in the documented run order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from pants.base.specs import RawSpecs, Specs
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target, Targets
from pants.option.global_options import GlobMatchErrorBehavior

from db_migrate.report import Problem
from db_migrate.target_types import AlembicMigrationsFieldSet


@dataclass(frozen=True)
class ComponentSelectionRequest:
    specs: Specs
    goal: str


@dataclass(frozen=True)
class ComponentSelection:
    field_sets: Tuple[AlembicMigrationsFieldSet, ...]
    problem: Problem | None = None


@dataclass(frozen=True)
class _SpecMatch:
    spec: str
    targets: Tuple[Target, ...]
    error: str | None = None


@dataclass(frozen=True)
class _OneSpec:
    specs: Specs
    text: str


@rule
async def _targets_for_one_spec(request: _OneSpec) -> _SpecMatch:
    try:
        targets = await Get(Targets, Specs, request.specs)
    except Exception as e:  # the engine's ResolveError and friends: report them in our words
        lines = [line for line in str(e).strip().splitlines() if line.strip()]
        return _SpecMatch(request.text, (), lines[-1] if lines else type(e).__name__)
    return _SpecMatch(request.text, tuple(targets))


def no_specs(goal: str) -> Problem:
    return Problem(
        title="No components selected",
        details=(f"`pants {goal}` needs to know which database components to act on",),
        actions=(
            f"One component: pants {goal} src/ai/backend/manager::",
            f"Every component in the repository: pants {goal} ::",
            "List them: pants list --filter-target-type=alembic_migrations ::",
        ),
        kind="no_specs",
    )


def no_component_for(goal: str, unmatched: Tuple[Tuple[str, str], ...]) -> Problem:
    return Problem(
        title="No migration target for " + ", ".join(f"`{spec}`" for spec, _ in unmatched),
        details=tuple(f"`{spec}`: {why}" for spec, why in unmatched),
        actions=(
            "List the components: pants list --filter-target-type=alembic_migrations ::",
            f"Select one by its directory, e.g. pants {goal} src/ai/backend/manager::",
            "Declare one: an `alembic_migrations` target next to env.py (pants tailor proposes it)",
        ),
        kind="no_component",
    )


@rule
async def select_components(request: ComponentSelectionRequest) -> ComponentSelection:
    includes = request.specs.includes
    singles = [
        *includes.address_literals,
        *includes.file_literals,
        *includes.file_globs,
        *includes.dir_literals,
        *includes.dir_globs,
        *includes.recursive_globs,
        *includes.ancestor_globs,
    ]
    if not singles:
        return ComponentSelection((), no_specs(request.goal))

    matches = await MultiGet(
        Get(
            _SpecMatch,
            _OneSpec(
                Specs(
                    includes=RawSpecs.create(
                        [spec],
                        description_of_origin=f"the `{request.goal}` arguments",
                        unmatched_glob_behavior=GlobMatchErrorBehavior.error,
                    ),
                    ignores=request.specs.ignores,
                ),
                str(spec),
            ),
        )
        for spec in singles
    )
    unmatched = []
    selected: dict = {}
    for match in matches:
        targets = match.targets
        applicable = [t for t in targets if AlembicMigrationsFieldSet.is_applicable(t)]
        if match.error:
            unmatched.append((match.spec, match.error))
        elif not applicable:
            kinds = sorted({t.alias for t in targets})
            why = (
                "it matches no target"
                if not kinds
                else "it matches only " + ", ".join(kinds) + " targets"
            )
            unmatched.append((match.spec, why))
        for t in applicable:
            selected[t.address] = AlembicMigrationsFieldSet.create(t)
    if unmatched:
        return ComponentSelection((), no_component_for(request.goal, tuple(unmatched)))
    ordered = sorted(
        selected.values(),
        key=lambda fs: (fs.migration_order.value or 0, fs.component_name, fs.address.spec),
    )
    return ComponentSelection(tuple(ordered))


def rules():
    return collect_rules()

"""Which components a command line selects.

Pants' own target-root selection (`TargetRootsToFieldSetsRequest`, the request `pants test`,
`lint` and `deploy` use) picks the `alembic_migrations` targets; its no-applicable-targets
behaviour is `ignore`, because what an empty selection means is ours to say:

- from `--changed-since`/`--changed-diffspec`: nothing relevant changed, a quiet no-op;
- from specs the user typed: each spec must select at least one component
  (`pants db-migrate src/ai/backend/web::` is a mistake to report, not an empty success), and a
  typo gets the closest component directories (`did you mean src/ai/backend/manager::`).

The result is in the documented run order. The hints of its errors (and the goals') show a spec
of the repository at hand (`ExampleSelector`), never one of the repository the plugin came from.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Tuple

from pants.base.specs import RawSpecs, Specs
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    AllTargets,
    FieldSet,
    NoApplicableTargetsBehavior,
    Target,
    TargetRootsToFieldSets,
    TargetRootsToFieldSetsRequest,
    Targets,
)
from pants.engine.unions import UnionRule, union
from pants.option.global_options import GlobMatchErrorBehavior

from db_migrate.core.report import Problem
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet

# A suggestion must be this similar to what was typed (`_similarity`), and within TIE of the best.
CLOSE_ENOUGH = 0.75
TIE = 0.05

# Directory names that say where Alembic's files are, not which component they belong to.
GENERIC_DIRECTORY_NAMES = frozenset(
    {
        "alembic",
        "migrations",
        "migration",
        "models",
        "db",
        "database",
        "versions",
        "src",
    }
)


@union
class MigrationComponentFieldSet(FieldSet):
    """What the db-* goals select; `alembic_migrations` targets (`AlembicMigrationsFieldSet`)."""


@dataclass(frozen=True)
class ComponentSelectionRequest:
    specs: Specs
    goal: str


@dataclass(frozen=True)
class ComponentSelection:
    field_sets: Tuple[AlembicMigrationsFieldSet, ...]
    problem: Optional[Problem] = None


@dataclass(frozen=True)
class _SpecMatch:
    spec: str
    path: str  # the spec's directory or file part, for suggestions
    targets: Tuple[Target, ...]
    error: Optional[str] = None


@dataclass(frozen=True)
class _OneSpec:
    specs: Specs
    text: str
    path: str


@rule
async def _targets_for_one_spec(request: _OneSpec) -> _SpecMatch:
    try:
        targets = await Get(Targets, Specs, request.specs)
    except Exception as e:  # the engine's ResolveError and friends: report them in our words
        lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
        why = next((line for line in lines if "Traceback" not in line), type(e).__name__)
        return _SpecMatch(request.text, request.path, (), why)
    return _SpecMatch(request.text, request.path, tuple(targets))


@dataclass(frozen=True)
class ExampleSelector:
    """How a command names one of this repository's components, for the hints of errors."""

    spec: str


def component_selector(directory: str) -> str:
    """The spec people type for the component whose target is in `directory`: the directory
    without the trailing folders that only say where Alembic's files are
    (`src/ai/backend/manager/models/alembic` -> `src/ai/backend/manager::`)."""
    parts = directory.split("/") if directory else []
    while len(parts) > 1 and parts[-1] in GENERIC_DIRECTORY_NAMES:
        parts.pop()
    return "/".join(parts) + "::"


def example_selector(default_specs: Sequence[str], component_dirs: Sequence[str]) -> str:
    """The default component when the repository names one, else its first component."""
    if default_specs:
        return default_specs[0]
    if component_dirs:
        return component_selector(component_dirs[0])
    return "path/to/component::"


def _component_dirs(everything: Iterable[Target]) -> Tuple[str, ...]:
    """The directories of the component targets, in run order."""
    field_sets = [
        AlembicMigrationsFieldSet.create(t)
        for t in everything
        if AlembicMigrationsFieldSet.is_applicable(t)
    ]
    return tuple(fs.address.spec_path for fs in _in_run_order(field_sets))


@rule
async def find_example_selector(settings: DbMigrationsSubsystem) -> ExampleSelector:
    everything = await Get(AllTargets)
    return ExampleSelector(example_selector(settings.default_specs, _component_dirs(everything)))


def no_specs(goal: str, example: str) -> Problem:
    return Problem(
        title="No components selected",
        details=(f"`pants {goal}` needs to know which database components to act on",),
        actions=(
            f"One component: pants {goal} {example}",
            f"Every component in the repository: pants {goal} ::",
            "List them: pants list --filter-target-type=alembic_migrations ::",
        ),
        kind="no_specs",
    )


def _similarity(typed: str, candidate: str) -> float:
    """How alike two paths of the same depth are: the product of their differing segments' ratios."""
    score = 1.0
    for a, b in zip(typed.split("/"), candidate.split("/")):
        if a != b:
            score *= difflib.SequenceMatcher(None, a, b).ratio()
    return score


def closest_specs(spec: str, path: str, component_dirs: Iterable[str]) -> Tuple[str, ...]:
    """Specs like `spec` naming the component directories (or their ancestors) closest to `path`."""
    if not path:
        return ()
    depth = path.count("/") + 1
    candidates = {
        "/".join(d.split("/")[:depth]) for d in component_dirs if d.count("/") + 1 >= depth
    }
    candidates.discard(path)
    scored = sorted(((_similarity(path, c), c) for c in candidates), reverse=True)
    if not scored or scored[0][0] < CLOSE_ENOUGH:
        return ()
    suffix = spec[len(path) :] if spec.startswith(path) else ""
    best = scored[0][0]
    return tuple(f"{c}{suffix}" for score, c in scored[:3] if score >= best - TIE)


def no_component_for(
    goal: str,
    unmatched: Tuple[Tuple[str, str], ...],
    example: str,
    suggestions: Tuple[str, ...] = (),
) -> Problem:
    did_you_mean = (
        ("Did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?",) if suggestions else ()
    )
    return Problem(
        title="No migration target for " + ", ".join(f"`{spec}`" for spec, _ in unmatched),
        details=(*(f"`{spec}`: {why}" for spec, why in unmatched), *did_you_mean),
        actions=(
            *(f"pants {goal} {s}" for s in suggestions[:1]),
            "List the components: pants list --filter-target-type=alembic_migrations ::",
            f"Select one by its directory, e.g. pants {goal} {example}",
            "Declare one: an `alembic_migrations` target next to env.py (pants tailor proposes it)",
        ),
        kind="no_component",
    )


def _spec_path(spec) -> str:
    for attribute in ("directory", "path_component", "file", "glob"):
        value = getattr(spec, attribute, None)
        if isinstance(value, str):
            return value
    return ""


def _one_spec_requests(request: ComponentSelectionRequest) -> Tuple[_OneSpec, ...]:
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
    return tuple(
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
            _spec_path(spec),
        )
        for spec in singles
    )


async def _diagnose(request: ComponentSelectionRequest, one_specs) -> Optional[Problem]:
    """Our words for the specs that select no component (None when each selects one)."""
    matches = await MultiGet(Get(_SpecMatch, _OneSpec, one) for one in one_specs)
    unmatched = []
    for match in matches:
        kinds = sorted({t.alias for t in match.targets})
        if match.error:
            unmatched.append((match, match.error))
        elif not any(AlembicMigrationsFieldSet.is_applicable(t) for t in match.targets):
            why = (
                "it matches no target"
                if not kinds
                else f"it matches only {', '.join(kinds)} targets"
            )
            unmatched.append((match, why))
    if not unmatched:
        return None
    everything, example = await MultiGet(Get(AllTargets), Get(ExampleSelector))
    dirs = sorted(_component_dirs(everything))
    suggestions = tuple(
        s for match, _ in unmatched for s in closest_specs(match.spec, match.path, dirs)
    )
    return no_component_for(
        request.goal, tuple((m.spec, why) for m, why in unmatched), example.spec, suggestions
    )


def _in_run_order(field_sets) -> Tuple[AlembicMigrationsFieldSet, ...]:
    unique = {fs.address: fs for fs in field_sets if isinstance(fs, AlembicMigrationsFieldSet)}
    return tuple(
        sorted(
            unique.values(),
            key=lambda fs: (fs.migration_order.value or 0, fs.component_name, fs.address.spec),
        )
    )


@rule
async def select_components(request: ComponentSelectionRequest) -> ComponentSelection:
    changed = request.specs.includes.from_change_detection
    one_specs = _one_spec_requests(request)
    if not one_specs and not changed:
        example = await Get(ExampleSelector)
        return ComponentSelection((), no_specs(request.goal, example.spec))
    roots_request = TargetRootsToFieldSetsRequest(
        MigrationComponentFieldSet,
        goal_description=f"the `{request.goal}` goal",
        no_applicable_targets_behavior=NoApplicableTargetsBehavior.ignore,
    )
    try:
        roots = await Get(
            TargetRootsToFieldSets,
            {roots_request: TargetRootsToFieldSetsRequest, request.specs: Specs},
        )
        selected = _in_run_order(roots.field_sets)
    except Exception:  # noqa: BLE001 - a spec Pants cannot resolve: `_diagnose` explains it
        selected = None
    if changed and selected is not None:
        return ComponentSelection(selected)  # nothing relevant changed: an empty, quiet selection
    problem = await _diagnose(request, one_specs)
    if problem is None and selected is None:
        problem = no_specs(request.goal, (await Get(ExampleSelector)).spec)
    if problem is not None:
        return ComponentSelection((), problem)
    return ComponentSelection(selected)


def rules():
    return [
        *collect_rules(),
        UnionRule(MigrationComponentFieldSet, AlembicMigrationsFieldSet),
    ]

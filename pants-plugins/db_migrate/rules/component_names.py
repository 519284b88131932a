"""`--component=NAME`: the specification's way of selecting components, beside Pants' specs.

A name selects the `alembic_migrations` targets whose `component` field is NAME, wherever they are
in the repository. Names come from the option as typed (repeated or comma-separated); an unknown
one is refused with the known names and the closest one, before anything else happens.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence, Tuple

from db_migrate.core.report import Problem
from db_migrate.target_types import AlembicMigrationsFieldSet


def parse_names(values: Iterable[str]) -> Tuple[str, ...]:
    """`--component=a --component=b,c` -> ("a", "b", "c"): stripped, in order, each once."""
    names = (name.strip() for value in values for name in value.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def unknown_component(goal: str, unknown: Sequence[str], known: Sequence[str]) -> Problem:
    closest = [difflib.get_close_matches(name, known, n=1, cutoff=0.6) for name in unknown]
    suggestions = tuple(match[0] for match in closest if match)
    plural = "s" if len(unknown) > 1 else ""
    return Problem(
        title=f"Unknown component{plural} " + ", ".join(f"'{name}'" for name in unknown),
        details=(
            "Known components: " + (", ".join(known) or "none (no alembic_migrations target)"),
            *(
                ("Did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?",)
                if suggestions
                else ()
            ),
        ),
        actions=(
            *(f"pants {goal} --component={s}" for s in suggestions[:1]),
            "List them: pants list --filter-target-type=alembic_migrations ::",
            "A component's name is the `component` field of its alembic_migrations target",
        ),
        kind="unknown_component",
    )


def specs_and_component(goal: str, names: Sequence[str]) -> Problem:
    option = ",".join(names)
    return Problem(
        title="Both specs and --component given",
        details=(
            "Select components either with Pants specs (e.g. `path/to/component::`) or with"
            f" --component=NAME, not both: the command names --component={option} and specs",
        ),
        actions=(
            f"By name: pants {goal} --component={option}",
            f"By path: pants {goal} <specs> (without --component)",
        ),
        kind="specs_and_component",
    )


def by_name(
    goal: str, names: Sequence[str], field_sets: Sequence[AlembicMigrationsFieldSet]
) -> Tuple[Tuple[AlembicMigrationsFieldSet, ...], Tuple[Problem, ...]]:
    """The field sets whose component is one of `names` (in the given order of `field_sets`), or
    the problem of the names no field set has."""
    known = sorted({fs.component_name for fs in field_sets})
    unknown = [name for name in names if name not in known]
    if unknown:
        return (), (unknown_component(goal, unknown, known),)
    wanted = set(names)
    return tuple(fs for fs in field_sets if fs.component_name in wanted), ()

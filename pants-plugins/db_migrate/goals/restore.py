"""`pants db-restore --backup=FILE <component>`: put a backup taken before a downgrade back.

The command every downgrade report prints, so it works as printed from the repository root: the
database is the one `db-migrate` uses (the component's URL variable, else its ini), reached with
the same credentials (no password prompt), under the same migration lock, refused while other
sessions are connected (as a downgrade is).
"""

from __future__ import annotations

import os

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import Get, collect_rules, goal_rule
from pants.option.option_types import BoolOption, IntOption, StrOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core.report import Problem
from db_migrate.goals.common import Reporter, ReportOptions, run_component, with_default_specs
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.selection import (
    ComponentSelection,
    ComponentSelectionRequest,
    ExampleSelector,
)
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet


class DbRestoreSubsystem(GoalSubsystem, ReportOptions):
    name = "db-restore"
    help = softwrap(
        """
        Restore a backup that `db-migrate` took before a downgrade into the component's database
        (pg_restore --clean --if-exists, in one transaction), e.g.
        `pants db-restore --backup=.db-backups/manager-...dump src/ai/backend/manager::`.
        """
    )

    backup = StrOption(
        default=None,
        metavar="FILE",
        help="The backup file (`.dump`), relative to the build root or absolute.",
    )
    allow_active_sessions = BoolOption(
        default=False,
        help="Restore even while other sessions are connected to the database.",
    )
    lock_timeout = IntOption(
        default=60,
        help="Seconds to wait for a migration of the same database to finish first.",
    )


class DbRestore(Goal):
    subsystem_cls = DbRestoreSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


def usage(why: str, example: str) -> Problem:
    return Problem(
        title="Nothing to restore",
        details=(why,),
        actions=(
            f"pants db-restore --backup=.db-backups/<file>.dump {example}",
            "The downgrade report prints this command with the right file and component",
        ),
        kind="restore_usage",
    )


async def _usage(why: str) -> Problem:
    return usage(why, (await Get(ExampleSelector)).spec)


async def _db_restore(reporter, subsystem, settings, specs, build_root) -> int:
    if not subsystem.backup:
        reporter.problem([await _usage("--backup names the backup file to restore")])
        return 2
    path = os.path.join(build_root.path, subsystem.backup)
    if not os.path.isfile(path):
        reporter.problem([await _usage(f"{subsystem.backup}: no such file")])
        return 2
    selection = await Get(ComponentSelection, ComponentSelectionRequest(specs, "db-restore"))
    if selection.problem:
        reporter.problem([selection.problem])
        return 2
    if len(selection.field_sets) != 1:
        names = ", ".join(fs.component_name for fs in selection.field_sets)
        reporter.problem(
            [await _usage(f"a backup belongs to one component; the arguments select {names}")]
        )
        return 2
    setup = await Get(ComponentSetup, AlembicMigrationsFieldSet, selection.field_sets[0])
    if setup.config_problems:
        reporter.problem(setup.config_problems)
        return 1
    run = await run_component(
        setup,
        command="restore",
        settings=settings,
        build_root=build_root,
        reporter=reporter,
        options={
            "backup": os.path.abspath(path),
            "lock_wait": subsystem.lock_timeout,
            "allow_active_sessions": subsystem.allow_active_sessions,
        },
    )
    return run.exit_code


@goal_rule
async def db_restore(
    console: Console,
    subsystem: DbRestoreSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    changed: Changed,
) -> DbRestore:
    reporter = Reporter(console, "db-restore", subsystem, build_root)
    specs = with_default_specs(specs, settings, changed, build_root, reporter)
    code = (
        await _db_restore(reporter, subsystem, settings, specs, build_root)
        if reporter.check_output()
        else 2
    )
    return DbRestore(exit_code=reporter.finish(code))


def rules():
    return collect_rules()

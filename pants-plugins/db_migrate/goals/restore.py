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

from db_migrate.core.contract import RestoreOptions
from db_migrate.core.report import Problem
from db_migrate.goals.common import EXIT_USAGE, ComponentOption, run_goal, the_one_component
from db_migrate.goals.component_run import run_component
from db_migrate.goals.reporting import ReportOptions
from db_migrate.rules.selection import ExampleSelector
from db_migrate.subsystem import DbMigrationsSubsystem


class DbRestoreSubsystem(GoalSubsystem, ReportOptions, ComponentOption):
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
        return EXIT_USAGE
    path = os.path.join(build_root.path, subsystem.backup)
    if not os.path.isfile(path):
        reporter.problem([await _usage(f"{subsystem.backup}: no such file")])
        return EXIT_USAGE
    example = (await Get(ExampleSelector)).spec
    setup = await the_one_component(
        reporter,
        specs,
        lambda names: usage(
            f"a backup belongs to one component; the arguments select {', '.join(names)}",
            example,
        ),
    )
    if setup is None:
        return EXIT_USAGE
    if setup.config_problems:
        reporter.problem(setup.config_problems)
        return 1
    run = await run_component(
        setup,
        RestoreOptions(
            backup=os.path.abspath(path),
            lock_wait=subsystem.lock_timeout,
            allow_active_sessions=subsystem.allow_active_sessions,
        ),
        settings=settings,
        build_root=build_root,
        reporter=reporter,
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
    code = await run_goal(
        console,
        subsystem,
        build_root,
        lambda r, s: _db_restore(r, subsystem, settings, s, build_root),
        specs=specs,
        settings=settings,
        changed=changed,
    )
    return DbRestore(exit_code=code)


def rules():
    return collect_rules()

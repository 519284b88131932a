"""`pants db-rebase SPECS`: resolve diverged heads the way a monorepo team does.

Static pre-flight first (broken files stop everything; a component with a single head has
nothing to do and needs no runner). Then one runner per diverged component: it asks git which
revisions are on the shared branch (`--base-ref`), picks merge or rebase (`--strategy=auto`),
says why, and writes the files into the workspace (and, for a rebase of a branch the database
applied, moves the database off the branch and back on).
"""

from __future__ import annotations

from enum import Enum
from typing import List

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import collect_rules, goal_rule
from pants.option.option_types import BoolOption, EnumOption, IntOption, StrOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core import report
from db_migrate.core.contract import RebaseOptions
from db_migrate.goals.common import (
    EXIT_USAGE,
    BaseRefOption,
    ComponentOption,
    run_goal,
    run_order,
    selected_setups,
)
from db_migrate.goals.component_run import run_component
from db_migrate.goals.reporting import ComponentRun, Reporter, ReportOptions
from db_migrate.subsystem import DbMigrationsSubsystem


class RebaseStrategy(Enum):
    auto = "auto"
    merge = "merge"
    rebase = "rebase"


class DbRebaseSubsystem(GoalSubsystem, ReportOptions, ComponentOption, BaseRefOption):
    name = "db-rebase"
    help = softwrap(
        """
        Resolve diverged heads of the selected components (after a git merge, two branches each
        added revisions on the same parent). Example: `pants db-rebase --dry-run src/ai/backend/manager::`.
        """
    )

    strategy = EnumOption(
        default=RebaseStrategy.auto,
        help=softwrap(
            """
            `merge`: write one empty merge revision whose down_revision is the tuple of the heads
            (no existing file is edited). `rebase`: re-point the first revision of your own branch
            (its files are not in `--base-ref`) at the other head, keeping revision ids; a database
            that applied your branch is downgraded first (with a backup) and re-applied after.
            `auto`: rebase when exactly one of two branches is entirely yours, merge otherwise,
            and say why.
            """
        ),
    )
    dry_run = BoolOption(
        default=False,
        help="Print the plan (strategy and why, files, database steps) and change nothing.",
    )
    message = StrOption(
        default=None,
        metavar="TEXT",
        help="Message of the merge revision (default: `Merge <head> (<message>) and <head> (<message>)`).",
    )
    lock_timeout = IntOption(
        default=60,
        help="Seconds to wait for another migration of the same database (a rebase may downgrade and re-apply).",
    )
    allow_active_sessions = BoolOption(
        default=False,
        help="Downgrade for a rebase even while other sessions are connected to the database.",
    )


class DbRebase(Goal):
    subsystem_cls = DbRebaseSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


async def _db_rebase(
    reporter: Reporter,
    subsystem: DbRebaseSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
) -> int:
    setups = await selected_setups(reporter, specs)
    if setups is None:
        return EXIT_USAGE
    problems = [p for s in setups for p in s.problems]
    if problems:
        reporter.problem(problems)
        return 1

    runs: List[ComponentRun] = []
    # A rebase may downgrade a database before re-applying: the order of a downgrade.
    for i, setup in enumerate(run_order(reporter, setups, "downgrade", "a rebase may downgrade")):
        if i:
            reporter.say("")
        if len(setup.heads) < 2:
            reporter.say(
                f"{report.SUCCESS} {setup.component} has a single head "
                f"({report.describe_heads(setup.heads)}): nothing to resolve"
            )
            continue
        run = await run_component(
            setup,
            RebaseOptions(
                strategy=subsystem.strategy.value,
                base_ref=subsystem.base_ref,
                dry_run=subsystem.dry_run,
                message=subsystem.message,
                lock_wait=subsystem.lock_timeout,
                allow_active_sessions=subsystem.allow_active_sessions,
            ),
            settings=settings,
            build_root=build_root,
            reporter=reporter,
        )
        runs.append(run)
        if run.exit_code != 0:
            break
    return next((r.exit_code for r in runs if r.exit_code != 0), 0)


@goal_rule
async def db_rebase(
    console: Console,
    subsystem: DbRebaseSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    changed: Changed,
) -> DbRebase:
    code = await run_goal(
        console,
        subsystem,
        build_root,
        lambda r, s: _db_rebase(r, subsystem, settings, s, build_root),
        specs=specs,
        settings=settings,
        changed=changed,
    )
    return DbRebase(exit_code=code)


def rules():
    return collect_rules()

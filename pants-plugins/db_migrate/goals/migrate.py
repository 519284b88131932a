"""`pants db-migrate`: upgrade or downgrade the selected components, one after another.

Static pre-flight for every selected component first (nothing touches a database if any of
them is broken), then one interactive runner per component in the documented order. The first
component that fails stops the run: later ones may depend on it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional, Sequence, Tuple

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.internals.session import RunId
from pants.engine.rules import collect_rules, goal_rule
from pants.option.option_types import BoolOption, IntOption, StrOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core.contract import (
    DEFAULT_BASE_REF,
    NEEDS_ENVIRONMENT,
    AcceptOptions,
    BatchEntry,
    MigrateOptions,
    SqlOptions,
)
from db_migrate.core.report import Problem
from db_migrate.goals.common import (
    EXIT_USAGE,
    BaseRefOption,
    ComponentOption,
    run_goal,
    run_order,
    selected_setups,
    static_problems,
)
from db_migrate.goals.component_run import run_component, show_printed
from db_migrate.goals.from_snapshot import load_from_snapshot, snapshot_template_alone
from db_migrate.goals.from_snapshot import option_problem as snapshot_option_problem
from db_migrate.goals.in_pantsd import no_op_outcome, reaches
from db_migrate.goals.reporting import ComponentRun, Reporter, ReportOptions, summary_line
from db_migrate.goals.target_option import (
    TargetSyntaxError,
    check_target_syntax,
    resolve_release,
    split_range,
    static_target_problem,
)
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.subsystem import DbMigrationsSubsystem

DIRECTIONS = ("upgrade", "downgrade")
# The (--target, --direction) of runs that are often no-ops, which the lean runner answers.
PROBED = {("head", "upgrade"), ("heads", "upgrade"), ("base", "downgrade")}


class DbMigrateSubsystem(GoalSubsystem, ReportOptions, ComponentOption, BaseRefOption):
    name = "db-migrate"
    help = softwrap(
        """
        Apply Alembic migrations (upgrade or downgrade) to the database components selected by the
        arguments, e.g. `pants db-migrate src/ai/backend/manager::` or `pants db-migrate ::` for all.
        """
    )

    direction = StrOption(
        default="upgrade",
        metavar="upgrade|downgrade",
        help="`upgrade` applies newer revisions; `downgrade` reverts (and needs an explicit `--target`).",
    )
    target = StrOption(
        default=None,
        metavar="REV",
        help=softwrap(
            """
            Where to go: `head` (the default for upgrades), `base`, a full or unambiguous partial
            revision id, relative `+N`/`-N` from the database's revision (e.g. `--target=-1`),
            `REV+N`/`REV-N`, a branch `LABEL@head` (or `LABEL@base`, `LABEL@+N`), or
            `release:NAME` from the component's `release_pins`. With `--sql`, `FROM:TO` gives
            the range (either side any of these, e.g. `release:24.09.0:head`). A downgrade must
            name its target.
            """
        ),
    )
    backup = BoolOption(
        default=True,
        help=softwrap(
            """
            Back up the database (pg_dump, verified with pg_restore --list) before every downgrade.
            `--no-backup` skips it, explicitly.
            """
        ),
    )
    dry_run = BoolOption(
        default=False,
        help=softwrap(
            """
            Connect, run every pre-flight check, print exactly which revisions would run in which
            order and what backup would be taken, then stop without changing anything.
            """
        ),
    )
    sql = BoolOption(
        default=False,
        help=softwrap(
            """
            Print the SQL of the planned range instead of running it (Alembic's offline mode): no
            database is touched. Upgrades start from an empty database unless `--target=FROM:TO`
            gives a range; downgrades need one.
            """
        ),
    )
    sql_file = StrOption(
        default=None,
        metavar="PATH",
        help="With `--sql` (implied): write the SQL to this file (relative to the build root) instead of stdout.",
    )
    allow_changed = BoolOption(
        default=False,
        help=softwrap(
            """
            Proceed (with a warning) when an applied revision's file differs from the one the
            database ran (its checksum is recorded when it is applied). Without it, that is an error.
            """
        ),
    )
    allow_active_sessions = BoolOption(
        default=False,
        help=softwrap(
            """
            Downgrade even while other sessions (the application's services) are connected to the
            database. Without it a downgrade lists them and refuses (stop the services first);
            an upgrade only lists them.
            """
        ),
    )
    lock_timeout = IntOption(
        default=60,
        help="Seconds to wait for another migration of the same database to finish before failing.",
    )
    lock_retries = IntOption(
        default=None,
        help=softwrap(
            """
            How many times a revision that timed out waiting for a table lock (the target's
            `lock_timeout`) is rolled back and run again, with a growing pause in between.
            Default: the target's `lock_retries` field (5 unless it sets one).
            """
        ),
    )
    accept_changed = BoolOption(
        default=False,
        help=softwrap(
            """
            Record the current file of every applied released revision that changed since it ran
            as reviewed (the checksum ledger keeps the old checksum, when, who, the git commit
            and `--reason`), so later runs need no `--allow-changed` and a later edit is caught
            again. Runs no migration; needs `--reason`.
            """
        ),
    )
    reason = StrOption(
        default=None,
        metavar="TEXT",
        help="Why the changed revisions are accepted (required with `--accept-changed`), kept in the ledger.",
    )
    from_snapshot = BoolOption(
        default=False,
        help=softwrap(
            """
            Bring an empty database (no version table, no table in the component's schemas) to
            `--target` (head by default, `release:NAME`, a revision id) by loading a snapshot of
            that revision instead of replaying every revision. The snapshot is a cached build
            artifact: replayed once on a throwaway PostgreSQL, then taken from the local or remote
            cache. A database that is not empty is refused and left untouched.
            """
        ),
    )
    snapshot_template = BoolOption(
        default=False,
        help=softwrap(
            """
            With `--from-snapshot`: a database that does not exist yet is created as a clone of a
            template database of the snapshot kept on the same server (`CREATE DATABASE ...
            TEMPLATE`: a file copy, no load), built by the first such load; the two newest per
            component are kept. The role needs CREATEDB. Worth it from the second new database
            on a server: the first one costs a load and a copy.
            """
        ),
    )


class DbMigrate(Goal):
    subsystem_cls = DbMigrateSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


def bad_direction(value: str) -> Problem:
    return Problem(
        title=f"Invalid direction '{value}'",
        details=("--direction is either upgrade (apply newer revisions) or downgrade (revert)",),
        actions=(
            "Upgrade: pants db-migrate <component> (the default)",
            "Downgrade: pants db-migrate --direction=downgrade --target=-1 <component>",
        ),
        kind="invalid_direction",
    )


def missing_downgrade_target() -> Problem:
    return Problem(
        title="Downgrade needs a target",
        details=("`--direction=downgrade` without `--target` would guess how far to go back",),
        actions=(
            "One revision back: pants db-migrate --direction=downgrade --target=-1 <component>",
            "To a revision: pants db-migrate --direction=downgrade --target=<revision_id> <component>",
            "Everything: pants db-migrate --direction=downgrade --target=base <component>",
        ),
        kind="missing_target",
    )


def bad_lock_retries(value: int) -> Problem:
    return Problem(
        title=f"Invalid --lock-retries={value}",
        details=(
            "--lock-retries is how many times a revision that timed out on a lock runs again",
        ),
        actions=("No retry: --lock-retries=0; the target's lock_retries: leave the option out",),
        kind="invalid_option",
    )


def accept_problem(subsystem: DbMigrateSubsystem) -> Problem | None:
    """--accept-changed records a review and runs nothing: it needs a reason and no move."""
    if not subsystem.accept_changed:
        if subsystem.reason is None:
            return None
        return Problem(
            title="--reason without --accept-changed",
            details=("--reason says why changed revisions are accepted; nothing else reads it",),
            actions=(
                'Accept the changed revisions: pants db-migrate --accept-changed --reason="..." <component>',
            ),
            kind="invalid_option",
        )
    if not (subsystem.reason or "").strip():
        return Problem(
            title="--accept-changed needs --reason",
            details=(
                "Accepting an edited released revision is a review: the ledger keeps why, with"
                " when, who and the git commit, next to the old checksum",
            ),
            actions=(
                'Say why: pants db-migrate --accept-changed --reason="Black reformat, no SQL'
                ' change" <component>',
                "See what changed first: pants db-status <component>",
            ),
            kind="missing_reason",
        )
    clashing = [
        flag
        for flag, given in (
            ("--direction=downgrade", subsystem.direction.strip().lower() == "downgrade"),
            (f"--target={subsystem.target}", subsystem.target is not None),
            ("--sql", subsystem.sql or bool(subsystem.sql_file)),
            ("--allow-changed", subsystem.allow_changed),
        )
        if given
    ]
    if not clashing:
        return None
    return Problem(
        title=f"--accept-changed runs no migration: {clashing[0]} does not go with it",
        details=(
            "--accept-changed only records the current files of changed released revisions as"
            " reviewed; it moves no database to any target",
        ),
        actions=(
            'First accept: pants db-migrate --accept-changed --reason="..." <component>',
            f"Then migrate: pants db-migrate {' '.join(clashing)} <component>",
        ),
        kind="invalid_option",
    )


def user_flags(subsystem: DbMigrateSubsystem) -> Tuple[str, ...]:
    """The options the user gave besides direction and target, for the commands we suggest."""
    flags = []
    if not subsystem.backup:
        flags.append("--no-backup")
    if subsystem.lock_timeout != 60:
        flags.append(f"--lock-timeout={subsystem.lock_timeout}")
    if subsystem.lock_retries is not None:
        flags.append(f"--lock-retries={subsystem.lock_retries}")
    if subsystem.allow_changed:
        flags.append("--allow-changed")
    if subsystem.allow_active_sessions:
        flags.append("--allow-active-sessions")
    if subsystem.base_ref != DEFAULT_BASE_REF:
        flags.append(f"--base-ref={subsystem.base_ref}")
    return tuple(flags)


def migrate_options(
    subsystem: DbMigrateSubsystem, setup: ComponentSetup, direction: str, target: str
) -> MigrateOptions:
    """What the runner is asked for one component (`target` as the user wrote it)."""
    return MigrateOptions(
        direction=direction,
        target=resolve_release(setup, target),
        target_label=target,
        no_backup=not subsystem.backup,
        lock_wait=subsystem.lock_timeout,
        dry_run=subsystem.dry_run,
        allow_changed=subsystem.allow_changed,
        allow_active_sessions=subsystem.allow_active_sessions,
        user_flags=user_flags(subsystem),
        base_ref=subsystem.base_ref,
        release_pins=setup.release_pins,
        lock_retries=subsystem.lock_retries,
    )


def sql_options(
    subsystem: DbMigrateSubsystem,
    build_root: BuildRoot,
    setup: ComponentSetup,
    direction: str,
    parts: Sequence[str],
    append: bool,
) -> SqlOptions:
    """`--sql` for one component: the range with release pins resolved, and where it goes."""
    return SqlOptions(
        direction=direction,
        target=":".join(resolve_release(setup, part) for part in parts),
        target_label=":".join(parts),
        sql_file=subsystem.sql_file and os.path.join(build_root.path, subsystem.sql_file),
        sql_append=append,
    )


def _flagged(subsystem: DbMigrateSubsystem) -> bool:
    """--snapshot-template on the command line: set in pants.toml it is a team's preference for
    their --from-snapshot runs, and every other db-migrate goes on as usual."""
    options = getattr(subsystem, "options", None)
    return options is None or options.is_flagged("snapshot_template")


def _option_problem(subsystem: DbMigrateSubsystem, direction: str, parts) -> Problem | None:
    """What is wrong with --direction and --target before any file is read."""
    if direction not in DIRECTIONS:
        return bad_direction(subsystem.direction)
    if subsystem.lock_retries is not None and subsystem.lock_retries < 0:
        return bad_lock_retries(subsystem.lock_retries)
    accepting = accept_problem(subsystem)
    if accepting is not None:
        return accepting
    if subsystem.snapshot_template and not subsystem.from_snapshot and _flagged(subsystem):
        return snapshot_template_alone()
    if subsystem.from_snapshot:
        clash = snapshot_option_problem(
            direction,
            (subsystem.target or "head").strip(),
            subsystem.sql or bool(subsystem.sql_file),
            subsystem.accept_changed,
        )
        if clash is not None:
            return clash
    if direction == "downgrade" and not subsystem.target:
        return missing_downgrade_target()
    try:
        for part in parts:
            check_target_syntax(part)
    except TargetSyntaxError as e:
        return e.problem
    return None


def _report_static_problems(reporter: Reporter, setups, parts) -> bool:
    """Every component's broken files or unresolvable target, all reported; True if any."""
    broken = False
    for setup in setups:
        found = static_problems(setup, refuse_multiple_heads=True)
        if not found:
            found = tuple(p for p in (static_target_problem(setup, part) for part in parts) if p)
        reporter.problem(found, setup.component)
        broken = broken or bool(found)
    return broken


async def _migrate(
    reporter: Reporter,
    subsystem: DbMigrateSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    run_id: RunId,
) -> int:
    direction = subsystem.direction.strip().lower()
    target = (subsystem.target or "head").strip()
    offline = subsystem.sql or bool(subsystem.sql_file)
    parts = split_range(target) if offline else (target,)
    problem = _option_problem(subsystem, direction, parts)
    if problem is not None:
        reporter.problem([problem])
        return EXIT_USAGE

    setups = await selected_setups(reporter, specs)
    if setups is None:
        return EXIT_USAGE
    if _report_static_problems(reporter, setups, parts):
        return 1

    setups = run_order(reporter, setups, direction)
    if subsystem.accept_changed:
        return await _accept_in_order(reporter, subsystem, settings, build_root, setups)
    if offline:
        return await _write_sql(reporter, subsystem, settings, build_root, setups, direction, parts)
    if subsystem.from_snapshot:
        return await _load_in_order(reporter, subsystem, settings, build_root, setups, run_id)
    return await _run_in_order(reporter, subsystem, settings, build_root, setups, direction, target)


async def _run_in_order(
    reporter, subsystem, settings, build_root, setups, direction: str, target: str
) -> int:
    """One runner per component in order, stopping at the first failure (the rest are skipped)."""
    for setup in setups:
        options = migrate_options(subsystem, setup, direction, target)
        run = await _probed(reporter, settings, build_root, setup, options)
        if run is None:
            run = await run_component(
                setup, options, settings=settings, build_root=build_root, reporter=reporter
            )
        if run.exit_code != 0:
            break
    return _summed_up(reporter, setups)


async def _probed(
    reporter: Reporter, settings, build_root, setup: ComponentSetup, options: MigrateOptions
) -> Optional[ComponentRun]:
    """A run that may be a no-op (to head, or down to base), answered by pantsd when the
    answer is plain (`in_pantsd`), else tried first by the lean runner,
    whose sandbox holds no component source: its run when it answered (up-to-date, or an error
    any runner would give), None when the run has work for the component's own environment.
    The probe holds the migration lock while it reads, and writes nothing but what a no-op
    writes (the checksums of revisions applied without one)."""
    if options.dry_run or (options.target_label, options.direction) not in PROBED:
        return None
    where = (await reaches([setup], settings, build_root))[0]
    answer = no_op_outcome(where, setup.revisions, setup.heads, options) if where else None
    if answer is not None:
        printed, outcome = answer
        show_printed(reporter, BatchEntry(0, printed, "", outcome))
        return reporter.add(ComponentRun(setup.component, 0, outcome))
    run = await run_component(
        setup,
        dataclasses.replace(options, probe=True),
        settings=settings,
        build_root=build_root,
        output=reporter.output,
        lean=True,
    )
    if run.exit_code == 0 and run.outcome.get("status") == NEEDS_ENVIRONMENT:
        return None
    return reporter.add(run)


async def _load_in_order(reporter, subsystem, settings, build_root, setups, run_id) -> int:
    """--from-snapshot: each component's snapshot loaded in order, stopping at the first failure."""
    for setup in setups:
        run = await load_from_snapshot(
            setup,
            subsystem,
            (subsystem.target or "head").strip(),
            settings=settings,
            build_root=build_root,
            reporter=reporter,
            run_id=run_id,
        )
        if run.exit_code != 0:
            break
    return _summed_up(reporter, setups)


async def _accept_in_order(reporter, subsystem, settings, build_root, setups) -> int:
    """--accept-changed: each component's changed released revisions recorded as reviewed."""
    for setup in setups:
        options = AcceptOptions(
            reason=subsystem.reason.strip(),
            dry_run=subsystem.dry_run,
            lock_wait=subsystem.lock_timeout,
            base_ref=subsystem.base_ref,
            release_pins=setup.release_pins,
        )
        run = await run_component(
            setup, options, settings=settings, build_root=build_root, reporter=reporter
        )
        if run.exit_code != 0:
            break
    return _summed_up(reporter, setups)


def _summed_up(reporter: Reporter, setups) -> int:
    """The skipped components, the summary line of several, and the run's exit code."""
    runs = reporter.runs
    reporter.skipped = [s.component for s in setups[len(runs) :]]
    if len(setups) > 1 or reporter.skipped:
        reporter.say("")
        reporter.say(summary_line(reporter.console, "db-migrate", runs, reporter.skipped))
    return next((r.exit_code for r in runs if r.exit_code != 0), 0)


async def _write_sql(reporter, subsystem, settings, build_root, setups, direction, parts) -> int:
    """`--sql`: one offline runner per component, appending to one stream or file, in order."""
    for i, setup in enumerate(setups):
        run = await run_component(
            setup,
            sql_options(subsystem, build_root, setup, direction, parts, append=i > 0),
            settings=settings,
            build_root=build_root,
            reporter=reporter,
        )
        if run.exit_code != 0:
            return run.exit_code
    return 0


@goal_rule
async def db_migrate(
    console: Console,
    subsystem: DbMigrateSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    changed: Changed,
    run_id: RunId,
) -> DbMigrate:
    code = await run_goal(
        console,
        subsystem,
        build_root,
        lambda r, s: _migrate(r, subsystem, settings, s, build_root, run_id),
        specs=specs,
        settings=settings,
        changed=changed,
    )
    return DbMigrate(exit_code=code)


def rules():
    return collect_rules()

"""`pants db-migrate --from-snapshot`: an empty database brought to its target by loading the
snapshot of that revision instead of replaying every revision.

The snapshot is a cached build artifact (`rules/snapshot_process.py`): its process replays the
history on a throwaway PostgreSQL in its own sandbox the first time, and any later run with the
same inputs (here or, with a remote cache, on another clone) gets the file without starting a
PostgreSQL. The runner then loads it into the user's database under the migration lock
(`runner/commands/load_snapshot.py`), which refuses a database that is not empty. Only absolute
targets have a snapshot: `head`, `release:NAME`, a revision id, `LABEL@head`.
"""

from __future__ import annotations

from typing import Optional, Tuple

from pants.engine.internals.session import RunId
from pants.engine.rules import Get

from db_migrate.core import report
from db_migrate.core.contract import SNAPSHOT_FILE, LoadSnapshotOptions, SnapshotOptions
from db_migrate.core.history import TargetError
from db_migrate.core.report import Problem
from db_migrate.goals.component_run import build_plan, run_component
from db_migrate.goals.reporting import ComponentRun
from db_migrate.goals.target_option import RELATIVE, resolve_release
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.snapshot_process import SnapshotRequest, SnapshotResult
from db_migrate.rules.verify_process import source_label


def option_problem(
    direction: str, target: str, offline: bool, accepting: bool
) -> Optional[Problem]:
    """--from-snapshot brings an empty database up to an absolute target, and does nothing else."""
    clashing = [
        flag
        for flag, given in (
            ("--direction=downgrade", direction == "downgrade"),
            ("--sql", offline),
            ("--accept-changed", accepting),
            (f"--target={target}", target == "base" or bool(RELATIVE.match(target))),
        )
        if given
    ]
    if not clashing:
        return None
    return Problem(
        title=f"--from-snapshot does not go with {clashing[0]}",
        details=(
            "--from-snapshot loads the state at an absolute revision (head, release:NAME, a"
            " revision id) into an empty database; a relative target, base, a downgrade, --sql"
            " or --accept-changed have no snapshot",
        ),
        actions=(
            "Load the snapshot of head: pants db-migrate --from-snapshot <component>",
            f"Or run without --from-snapshot: pants db-migrate {' '.join(clashing)} <component>",
        ),
        kind="invalid_option",
    )


def snapshot_template_alone() -> Problem:
    return Problem(
        title="--snapshot-template goes with --from-snapshot",
        details=("--snapshot-template says where a snapshot's load creates a new database",),
        actions=("pants db-migrate --from-snapshot --snapshot-template <component>",),
        kind="invalid_option",
    )


def snapshot_target(setup: ComponentSetup, label: str) -> Tuple[str, ...]:
    """The full revision ids `label` denotes (static checks already accepted it)."""
    try:
        return tuple(sorted(setup.history().resolve(resolve_release(setup, label))))
    except TargetError:
        return ()


def snapshot_request(setup: ComponentSetup, label: str) -> SnapshotRequest:
    """The cached snapshot's request: the target as full revision ids (so `head` and its id are
    one cache key), facts from the files, no host state."""
    target = snapshot_target(setup, label)
    plan = build_plan(setup, SnapshotOptions(target=target))
    return SnapshotRequest(setup.field_set, plan.to_json(), _replayed(setup, target), label)


def _replayed(setup: ComponentSetup, target: Tuple[str, ...]) -> int:
    if len(target) == 1:
        return len(setup.history().upgrade_plan(target[0]))
    return len(setup.revisions)


async def load_from_snapshot(
    setup: ComponentSetup, subsystem, label: str, *, settings, build_root, reporter, run_id: RunId
) -> ComponentRun:
    """One component: its snapshot (cached, or built now), then the load; a dry run builds none."""
    target = snapshot_target(setup, label)
    if subsystem.dry_run:
        options = LoadSnapshotOptions(
            target=target,
            target_label=label,
            dry_run=True,
            snapshot_template=subsystem.snapshot_template,
        )
        return await run_component(
            setup, options, settings=settings, build_root=build_root, reporter=reporter, lean=True
        )
    built = await Get(SnapshotResult, SnapshotRequest, snapshot_request(setup, label))
    if built.exit_code != 0:
        return _failed(setup, built, reporter)
    cached = source_label(built.metadata, run_id)
    if not cached and built.stdout.strip():
        reporter.say(built.stdout.rstrip())  # the replay that built it, as it ran
    options = LoadSnapshotOptions(
        snapshot_file=SNAPSHOT_FILE,
        target=target,
        target_label=label,
        source=cached or "built now",
        build_seconds=0.0 if cached else built.seconds,
        lock_wait=subsystem.lock_timeout,
        snapshot_template=subsystem.snapshot_template,
    )
    return await run_component(
        setup,
        options,
        settings=settings,
        build_root=build_root,
        reporter=reporter,
        lean=True,  # the load runs no user code: the runner, the ini and the snapshot
        extra_files=built.snapshot,
    )


def _failed(setup: ComponentSetup, built: SnapshotResult, reporter) -> ComponentRun:
    """The snapshot process failed: its own words (a user's broken revision, say), run stops."""
    again = report.goal("db-migrate", setup.selector, "--from-snapshot")
    reporter.relay(setup.component, setup.selector, built, "snapshot build", again)
    run = ComponentRun(setup.component, built.exit_code, {"status": "failed"})
    return reporter.add(run)

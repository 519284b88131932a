"""`pants db-status`: where each selected component's database stands against its scripts.

Read-only. Static pre-flight first (a component whose files are broken is reported, the others
still get their status), then one runner per component that reads the version table and the
checksum ledger. The goal classifies what it read against the history pantsd keeps: up-to-date,
behind, diverged, no revision, ahead/unknown (or not running, for a development server that is
down: db-status never starts one). `--check` turns anything but up-to-date into a non-zero exit,
for CI and deploy gates.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.internals.session import RunId
from pants.engine.rules import collect_rules, goal_rule
from pants.option.option_types import BoolOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core.contract import BatchEntry, StatusOptions
from db_migrate.core.drift import LIVE_CATALOG
from db_migrate.core.status_report import (
    FACTS,
    UP_TO_DATE,
    DatabaseFacts,
    matching_release,
    outcome_fields,
    status_of,
    status_text,
)
from db_migrate.goals.common import (
    EXIT_USAGE,
    BaseRefOption,
    ComponentOption,
    run_goal,
    selected_setups,
)
from db_migrate.goals.component_run import run_batch, run_component, show_printed
from db_migrate.goals.drift import DriftCheck, drift_check
from db_migrate.goals.in_pantsd import reaches, status_outcome
from db_migrate.goals.reporting import ComponentRun, Reporter, ReportOptions
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.subsystem import DbMigrationsSubsystem

EXIT_NOT_UP_TO_DATE = 1
EXIT_DRIFT = 1  # --drift --check: the database differs from its scripts at its revision


class DbStatusSubsystem(GoalSubsystem, ReportOptions, ComponentOption, BaseRefOption):
    name = "db-status"
    help = softwrap(
        """
        Show each selected component's database revision, the heads of its scripts, and its state:
        Up-to-date, Behind (the pending revisions in order), Diverged (several heads: how to resolve),
        No revision (fresh database), Ahead/unknown (a revision these scripts lack) or Changed
        since applied (an applied revision's file was edited: your own unreleased work, or a
        released revision).
        Read-only: it never changes a database and never starts the development server.
        Example: `pants db-status src/ai/backend/manager::`, or `pants db-status ::` for all.
        """
    )

    check = BoolOption(
        default=False,
        help=softwrap(
            """
            Exit non-zero unless every selected component is up-to-date (for CI and deploy gates).
            Without it, db-status exits 0 whatever the state, and non-zero only when it cannot tell.
            """
        ),
    )
    history = BoolOption(
        default=False,
        help="Also list every revision from base to head as `rev: message`, marking the heads and the database's revision.",
    )
    drift = BoolOption(
        default=False,
        help=softwrap(
            """
            Also compare the database with the schema its scripts give at the revision its version
            table records (replayed on a throwaway PostgreSQL, cached like db-verify): tables,
            columns (type, nullability, default), indexes, constraints, sequences, enum types,
            functions, triggers and extensions of the component's schema(s), each difference
            with what the scripts expect and what the database has. Still read-only. With
            `--check`, drift exits 1.
            """
        ),
    )


class DbStatus(Goal):
    subsystem_cls = DbStatusSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


def _drift_note(entry: Optional[Dict[str, Any]]) -> str:
    """`--drift`'s word in the one-line summary: `no drift`, `drifted: N differences`, ..."""
    if not entry:
        return ""
    if entry.get("state") == "clean":
        return "no drift"
    n = len(entry.get("differences") or [])
    if entry.get("state") == "drift":
        return f"drifted: {n} difference{'s' if n != 1 else ''}"
    return "drift not compared"


def status_summary(console: Console, runs: Sequence[ComponentRun], broken: Sequence[str]) -> str:
    parts: List[str] = []
    for run in runs:
        state = run.outcome.get("state") if run.exit_code == 0 else None
        if state in ("behind", "no-revision"):
            parts.append(
                f"{run.component} {state} ({len(run.outcome.get('pending') or [])} pending)"
            )
        else:
            parts.append(f"{run.component} {state or 'error'}")
        drift_note = _drift_note(run.outcome.get("drift"))
        if drift_note:
            last = parts[-1]
            parts[-1] = (
                f"{last[:-1]}; {drift_note})" if last.endswith(")") else f"{last} ({drift_note})"
            )
    parts += [f"{name} broken" for name in broken]
    fresh = sum(1 for r in runs if r.exit_code == 0 and r.outcome.get("state") == UP_TO_DATE)
    total = len(runs) + len(broken)
    sigil = console.sigil_succeeded() if fresh == total else console.sigil_failed()
    return f"{sigil} db-status: {fresh}/{total} components up-to-date: " + ", ".join(parts)


def reported_status(setup: ComponentSetup, outcome: Dict[str, Any], *, show_history: bool) -> str:
    """What the runner read, classified against the component's history (kept by pantsd): the
    text to print, and the runner's outcome completed as the JSON report's entry."""
    facts = DatabaseFacts.from_dict(outcome.pop(FACTS))
    history = setup.history()
    status = status_of(history, facts)
    release = matching_release(setup.release_pins, status.current)
    outcome.update(outcome_fields(facts, status, release))
    return status_text(
        setup.component,
        setup.selector,
        setup.field_set.alembic_config.value,
        history,
        facts,
        status,
        show_history=show_history,
        release=release,
    )


async def _drift(
    reporter: Reporter, setup: ComponentSetup, outcome: Dict[str, Any], run_id: RunId
) -> DriftCheck:
    """`--drift` for one component whose database the runner read (its report entry set)."""
    live = outcome.pop(LIVE_CATALOG, None)
    facts = DatabaseFacts.from_dict(outcome[FACTS])
    status = status_of(setup.history(), facts)
    check = await drift_check(setup, status, live, facts.database, run_id)
    outcome["drift"] = {"state": check.state, **check.entry}
    return check


async def _db_status(
    reporter: Reporter,
    subsystem: DbStatusSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    run_id: RunId,
) -> int:
    setups = await selected_setups(reporter, specs)
    if setups is None:
        return EXIT_USAGE
    answered = await _read_in_pantsd(setups, subsystem, settings, build_root)
    batched = await _read_together(
        setups, subsystem, settings, build_root, reporter.output, answered
    )
    runs: List[ComponentRun] = []
    broken: List[str] = []
    drifts: List[DriftCheck] = []
    for i, setup in enumerate(setups):
        if i:
            reporter.say("")
        if setup.problems:  # diverged heads are a state, not a problem: only broken files land here
            reporter.problem(setup.problems, setup.component)
            broken.append(setup.component)
            continue
        if i in answered:
            run = reporter.add(answered[i])
        elif i in batched:
            run, printed = batched[i]
            show_printed(reporter, printed)
            reporter.add(run)
        else:
            run = await run_component(
                setup,
                _options(setup, subsystem),
                settings=settings,
                build_root=build_root,
                reporter=reporter,
                lean=True,  # reads the plan and the version table, never a revision file
            )
        if run.exit_code == 0 and FACTS in run.outcome:
            check = await _drift(reporter, setup, run.outcome, run_id) if subsystem.drift else None
            reporter.say(reported_status(setup, run.outcome, show_history=subsystem.history))
            if check is not None:
                say = reporter.console.print_stderr if check.failed else reporter.say
                say("\n".join(("", *check.lines)))
                drifts.append(check)
        runs.append(run)
    if len(setups) > 1:
        reporter.say("")
        reporter.say(status_summary(reporter.console, runs, broken))
    return _exit_code(runs, broken, drifts, check=subsystem.check)


def _exit_code(
    runs: Sequence[ComponentRun],
    broken: Sequence[str],
    drifts: Sequence[DriftCheck],
    *,
    check: bool,
) -> int:
    """A failure first, then (with `--check`) a component behind its heads, then drift."""
    failed = next((r.exit_code for r in runs if r.exit_code != 0), 0)
    if failed or broken or any(d.failed for d in drifts):
        return failed or 1
    if check and any(r.outcome.get("state") != UP_TO_DATE for r in runs):
        return EXIT_NOT_UP_TO_DATE
    if check and any(d.drifted for d in drifts):
        return EXIT_DRIFT
    return 0


def _options(setup: ComponentSetup, subsystem: DbStatusSubsystem) -> StatusOptions:
    return StatusOptions(
        subsystem.history, setup.release_pins, subsystem.base_ref, drift=subsystem.drift
    )


async def _read_in_pantsd(
    setups: Sequence[ComponentSetup],
    subsystem: DbStatusSubsystem,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
) -> Dict[int, ComponentRun]:
    """The components whose database pantsd read itself (`in_pantsd`: a plain answer), by
    index in `setups`; `--drift` reads the live catalog, which is the runner's."""
    if subsystem.drift:
        return {}
    answered: Dict[int, ComponentRun] = {}
    for i, (setup, where) in enumerate(zip(setups, await reaches(setups, settings, build_root))):
        outcome = status_outcome(where, setup.revisions) if where is not None else None
        if outcome is not None:
            answered[i] = ComponentRun(setup.component, 0, outcome)
    return answered


async def _read_together(
    setups: Sequence[ComponentSetup],
    subsystem: DbStatusSubsystem,
    settings: DbMigrationsSubsystem,
    build_root: BuildRoot,
    output: str,
    answered: Dict[int, ComponentRun],
) -> Dict[int, Tuple[ComponentRun, BatchEntry]]:
    """Every component whose files are sound and whose status is not yet `answered`, read by
    one runner process (concurrently), by its index in `setups`; nothing when one or none is
    left (it runs alone, as before)."""
    sound = [i for i, setup in enumerate(setups) if not setup.problems and i not in answered]
    if len(sound) < 2:
        return {}
    done = await run_batch(
        [setups[i] for i in sound],
        [_options(setups[i], subsystem) for i in sound],
        settings=settings,
        build_root=build_root,
        output=output,
    )
    return dict(zip(sound, done))


@goal_rule
async def db_status(
    console: Console,
    subsystem: DbStatusSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    changed: Changed,
    run_id: RunId,
) -> DbStatus:
    code = await run_goal(
        console,
        subsystem,
        build_root,
        lambda r, s: _db_status(r, subsystem, settings, s, build_root, run_id),
        specs=specs,
        settings=settings,
        changed=changed,
    )
    return DbStatus(exit_code=code)


def rules():
    return collect_rules()

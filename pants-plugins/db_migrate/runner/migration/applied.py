"""What the database has applied, checked before anything runs: revisions these scripts know,
files unchanged since they ran (tamper detection), and the checksum ledger brought up to date."""

from __future__ import annotations

from typing import Tuple

from db_migrate.core import applied, report
from db_migrate.core.alembic_ini import AlembicIni
from db_migrate.core.applied import current_heads
from db_migrate.core.contract import MigrateOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.runner.migration.move import retry_command
from db_migrate.runner.migration.problems import ahead_of_code
from db_migrate.runner.tamper import ledger, released


def checked_heads(
    plan: RunnerPlan[MigrateOptions], ini: AlembicIni, conn, outcome: Outcome
) -> Tuple[Tuple[str, ...], applied.Audit]:
    """(the version table's rows, the ledger's audit): refused when these scripts do not know
    the rows, or when an applied revision's file was edited since it ran."""
    heads = current_heads(conn, ini.version_table)
    outcome.before = heads
    known = {r.revision for r in plan.revisions}
    unknown = [h for h in heads if h not in known]
    if unknown:
        raise ProblemError(ahead_of_code(plan, unknown, heads))
    facts = {r.revision: r for r in plan.revisions}
    rows = applied.recorded(conn, ini.version_table) or {}
    found = applied.audit(rows, applied.applied_revisions(plan.revisions, heads), facts)
    if found.changed:
        _judge_changed(plan, found.changed, outcome)
    return heads, found


def _judge_changed(plan: RunnerPlan[MigrateOptions], changed, outcome: Outcome) -> None:
    """Edited since applied: your own unreleased revisions are a warning (the downgrade runs the
    file as it is now), released ones an error unless --allow-changed."""
    options = plan.options
    known = released.releases(
        plan, [c.path for c in changed], options.release_pins, options.base_ref
    )
    why = {c.revision: known.released_because(c.revision, c.path) for c in changed}
    mine = [c for c in changed if not why[c.revision]]
    shipped = [c for c in changed if why[c.revision]]
    outcome.extra["changed_revisions"] = [c.revision for c in changed]
    outcome.extra["unreleased_changed"] = [c.revision for c in mine]
    if known.note():
        print(f"{plan.component}: {known.note()}", flush=True)
    if mine:
        rerun = released.rerun_command(plan, [c.revision for c in mine])
        print(
            ledger.work_in_progress(plan.component, mine, known.unreleased_means(), rerun),
            flush=True,
        )
    if not shipped:
        return
    reasons = {c.revision: why[c.revision] for c in shipped}
    accept = report.goal(
        "db-migrate", plan.selector, "--accept-changed", '--reason="<why the edit is harmless>"'
    )
    problem = ledger.changed_problem(
        plan.component, shipped, retry_command(plan, "--allow-changed"), reasons, accept
    )
    if not options.allow_changed:
        raise ProblemError(problem)
    print(
        f"{report.WARNING} Warning (--allow-changed): " + "\n".join(problem.details),
        flush=True,
    )


def keep_ledger(plan: RunnerPlan, ini: AlembicIni, conn, found: applied.Audit) -> bool:
    """Make the ledger match the database before anything runs; False: tamper detection off."""
    why_not = ledger.ensure(conn, ini.version_table)
    if why_not:
        print(
            f"{report.WARNING} Warning: {plan.component}: tamper detection is off ({report.mask(why_not)});"
            " migrations run as usual, checksums are not recorded",
            flush=True,
        )
        return False
    facts = {r.revision: r for r in plan.revisions}
    ledger.reconcile(conn, ini.version_table, found, facts)
    if found.unrecorded:
        n = len(found.unrecorded)
        print(
            f"{plan.component}: recorded checksums for {n} revision{'s' if n != 1 else ''}"
            " applied outside pants",
            flush=True,
        )
    return True

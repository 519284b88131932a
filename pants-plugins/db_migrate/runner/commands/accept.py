"""`db-migrate --accept-changed` inside the resolved environment: record reviewed edits.

Under the migration lock (no migration records or checks checksums meanwhile): read the version
table and the ledger, find the applied revisions whose files changed since they ran, and record
the released ones' current files as reviewed (`tamper/accepted.py`). Your own unreleased
revisions are left as they are: a downgrade and an upgrade run their edit (the warning says how).
No migration runs and nothing is started: a development server that is down stays down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence, Tuple

from db_migrate.core import applied, report
from db_migrate.core.alembic_ini import parse_alembic_ini
from db_migrate.core.applied import current_heads
from db_migrate.core.contract import AcceptOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem, ProblemError
from db_migrate.runner.postgres import lock
from db_migrate.runner.postgres.connection import open_component_database
from db_migrate.runner.tamper import accepted, ledger, released
from db_migrate.runner.tamper.git_ref import workspace_commit


def run(plan: RunnerPlan[AcceptOptions], environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    request = plan.options
    if not request.reason.strip():
        raise ProblemError(_no_reason(plan))
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    db = open_component_database(plan, ini, environ, start_dev_server=False)
    with db.connection as conn:
        if not request.dry_run:
            lock.acquire(conn, plan.component, ini.version_table, request.lock_wait)
        heads = current_heads(conn, ini.version_table)
        outcome.before = heads
        shipped, why = _released_changes(plan, conn, ini.version_table, heads)
        if not shipped:
            print(
                f"{plan.component}: no applied released revision changed since it ran: nothing to accept",
                flush=True,
            )
            return outcome.finish("nothing-to-accept", heads)
        if request.dry_run:
            print(_would_accept(plan, shipped, why), flush=True)
            return outcome.finish("dry-run", heads)
        edits = _record(plan, conn, ini.version_table, shipped, why, request.reason.strip())
    outcome.extra["accepted_edits"] = [e.to_dict() for e in edits]
    print(_accepted_block(plan, edits), flush=True)
    return outcome.finish("accepted", heads)


def _released_changes(plan: RunnerPlan, conn, version_table: str, heads):
    """The applied released revisions whose files changed, and why each is released; your own
    unreleased ones are named with the commands that run their edit."""
    facts = {r.revision: r for r in plan.revisions}
    rows = applied.recorded(conn, version_table) or {}
    found = applied.audit(rows, applied.applied_revisions(plan.revisions, heads), facts)
    if not found.changed:
        return (), {}
    options = plan.options
    paths = [c.path for c in found.changed]
    known = released.releases(plan, paths, options.release_pins, options.base_ref)
    why = {c.revision: known.released_because(c.revision, c.path) for c in found.changed}
    mine = [c for c in found.changed if not why[c.revision]]
    if known.note():
        print(f"{plan.component}: {known.note()}", flush=True)
    if mine:
        rerun = released.rerun_command(plan, [c.revision for c in mine])
        print(
            f"{plan.component}: not accepted, your own unreleased work"
            f" ({known.unreleased_means()}): {', '.join(c.revision for c in mine)};"
            f" run the edit instead: {rerun}",
            flush=True,
        )
    return tuple(c for c in found.changed if why[c.revision]), why


def _record(plan: RunnerPlan, conn, version_table: str, shipped, why, reason: str):
    """The edits logged and the ledger's checksums replaced, or why the log cannot be written."""
    why_not = accepted.ensure_log(conn, version_table)
    if why_not:
        raise ProblemError(_cannot_record(plan, version_table, report.mask(why_not)))
    who = accepted.Reviewer.here(workspace_commit(plan.buildroot, [c.path for c in shipped]))
    return accepted.record(conn, version_table, shipped, why, who, reason)


def _change_lines(shipped: Sequence[applied.ChangedRevision], why) -> Tuple[str, ...]:
    lines = [
        f"  - {c.revision} ({c.path}): sha256 {c.recorded[:12]}… → {c.current[:12]}…"
        f" (released: {why[c.revision]})"
        for c in shipped
    ]
    return report.first_few(lines, ledger.MORE_CHANGED)


def _would_accept(plan: RunnerPlan, shipped, why) -> str:
    return "\n".join(
        [
            f"{plan.component}: dry run of --accept-changed: would record as reviewed:",
            *_change_lines(shipped, why),
            "Nothing was recorded (--dry-run).",
        ]
    )


def _accepted_block(plan: RunnerPlan, edits: Sequence[accepted.AcceptedEdit]) -> str:
    first = edits[0]
    who = accepted.Reviewer(first.os_user, first.git_commit, first.in_commit)
    changed = [
        applied.ChangedRevision(e.revision, e.path, e.old_checksum, e.new_checksum, "")
        for e in edits
    ]
    lines = [
        f"{report.SUCCESS} Changed revisions accepted as reviewed",
        "",
        f"Component: {plan.component}",
        "Accepted (the ledger now expects these files; the old checksums are kept):",
        *_change_lines(changed, {e.revision: e.released for e in edits}),
        f"Reason: {first.reason}",
        f"Recorded by: {who.describe()}, on {first.accepted_at}",
        "No migration ran.",
        "",
        "Next steps:",
        f"- Every accepted edit: {report.goal('db-status', plan.selector, '--history')}",
        f"- Migrate as usual, without --allow-changed: {report.goal('db-migrate', plan.selector)}",
    ]
    return report.mask("\n".join(lines))


def _no_reason(plan: RunnerPlan) -> Problem:
    return Problem(
        title="--accept-changed needs --reason",
        details=(f"{plan.component}: an accepted edit is kept with why it was accepted",),
        actions=(report.goal("db-migrate", plan.selector, "--accept-changed", '--reason="..."'),),
        kind="missing_reason",
    )


def _cannot_record(plan: RunnerPlan, version_table: str, why: str) -> Problem:
    schema, table = applied.ledger_table(version_table, applied.ACCEPTED)
    return Problem(
        title="Cannot record the accepted edits",
        details=(
            f"{plan.component}: the log of accepted edits, {schema}.{table}, cannot be written:"
            f" {why}",
            "Nothing was recorded.",
        ),
        actions=(
            f"Run it as a role that may create and write tables in schema {schema}",
            f"Or have the ledger's owner run the same command once (it creates {schema}.{table})",
        ),
        kind="cannot_record",
    )

"""`db-status` inside the resolved environment: what the component's database holds.

Read-only: one autocommit connection that only SELECTs Alembic's version table and the checksum
ledger, no lock, no revision file loaded. A development server that is down is reported as such and
never started. The runner only reads: the goal classifies the facts and prints the status in
pantsd (`status_report`), against the history it keeps, so this imports no Alembic (only the
`--history` of a database it cannot reach builds the history here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple

from db_migrate.core import applied, report
from db_migrate.core.alembic_ini import parse_alembic_ini
from db_migrate.core.contract import RunnerPlan, StatusOptions
from db_migrate.core.drift import LIVE_CATALOG
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.core.status_report import FACTS, NOT_CREATED, NOT_RUNNING, READ, DatabaseFacts


def run(plan: RunnerPlan[StatusOptions], environ, outcome: Outcome) -> Outcome:
    from db_migrate.core.database_url import resolve_url
    from db_migrate.runner.postgres.connection import peek_database
    from db_migrate.runner.postgres.dev_server import DevServerSettings

    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    source = resolve_url(plan.url_env, ini.url, environ, plan.component, plan.config)
    dev = DevServerSettings.of(plan.buildroot, plan.shared)
    database = source.url.masked()
    live = None
    try:
        db = peek_database(plan, ini, environ)
    except ProblemError as e:
        facts = _without_database(e, source, database) if dev.serves(source) else None
        if facts is None:
            if plan.options.history and not dev.serves(source):
                _print_history(plan)
            raise
    else:
        facts, live = _read_database(plan, ini, db, database)
    outcome.status = "ok"
    outcome.extra = {FACTS: facts.to_dict()}
    if plan.options.drift and facts.reached == READ:
        outcome.extra[LIVE_CATALOG] = live
    return outcome


def _print_history(plan: RunnerPlan) -> None:
    """The history before the error of a database it cannot reach (only here does the runner
    build Alembic's map)."""
    from db_migrate.core.history import History
    from db_migrate.core.status_report import render_history

    print(render_history(History(plan.revisions)), flush=True)
    print("", flush=True)


def _without_database(e: ProblemError, source, database: str) -> Optional[DatabaseFacts]:
    """The facts of a development server that is down or lacks this component's database; None
    for any other connection problem (it is raised)."""
    reason = e.problem.details[0] if e.problem.details else ""
    if e.problem.kind == "cannot_connect" and reason.startswith("Connection refused"):
        why = f"the development PostgreSQL on {source.url.where} is not running (db-status never starts it)"
        return DatabaseFacts(NOT_RUNNING, database + " (development server)", why=why)
    if e.problem.kind == "cannot_connect" and reason.startswith("Database '"):
        # The dev server runs, and this component's database is not created yet: nothing applied.
        where = " (development server; database not created yet, db-migrate creates it)"
        return DatabaseFacts(NOT_CREATED, database + where)
    return None


def _read_database(
    plan: RunnerPlan[StatusOptions], ini, db, database: str
) -> Tuple[DatabaseFacts, Optional[dict]]:
    """The version table and what the checksum ledger says of the applied files, from one
    read-only connection (and git, for which edited revisions are released); with `--drift`,
    the live catalog too (`schema_reads.live_catalog`)."""
    live = None
    with db.connection as conn:
        current = applied.current_heads(conn, ini.version_table)
        rows = applied.recorded(conn, ini.version_table) or {}
        edits = _accepted_edits(conn, ini.version_table)
        if plan.options.drift:
            from db_migrate.runner.verify.schema_reads import live_catalog

            live = live_catalog(conn, ini.version_table)
    return _facts(plan, database, current, rows, edits), live


def _facts(plan: RunnerPlan[StatusOptions], database: str, current, rows, edits) -> DatabaseFacts:
    from db_migrate.runner.tamper import released

    facts = {r.revision: r for r in plan.revisions}
    found = applied.audit(rows, applied.applied_revisions(plan.revisions, current), facts)
    unrecorded = tuple(found.unrecorded)
    if not found.changed:
        return DatabaseFacts(
            READ,
            database,
            tuple(current),
            ledger_lines=_unrecorded(unrecorded),
            unrecorded=unrecorded,
            accepted_edits=edits,
        )
    known = released.releases(
        plan, [c.path for c in found.changed], plan.options.release_pins, plan.options.base_ref
    )
    shipped = [c for c in found.changed if known.released_because(c.revision, c.path)]
    shipped_ids = {c.revision for c in shipped}
    mine = [c.revision for c in found.changed if c.revision not in shipped_ids]
    return DatabaseFacts(
        READ,
        database,
        tuple(current),
        changed=tuple(c.revision for c in found.changed),
        released=tuple(c.revision for c in shipped),
        released_paths=" ".join(c.path for c in shipped),
        rerun=released.rerun_command(plan, mine) if mine else "",
        ledger_lines=_changed_lines(found.changed, known) + _unrecorded(unrecorded),
        unrecorded=unrecorded,
        accepted_edits=edits,
    )


def _accepted_edits(conn, version_table: str) -> tuple:
    """The edits accepted as reviewed, each as the report has it plus its printed `line`."""
    from db_migrate.runner.tamper import accepted

    return tuple(
        {**e.to_dict(), "line": e.describe()} for e in accepted.history(conn, version_table)
    )


def _changed_lines(changed, known) -> Tuple[str, ...]:
    """What the checksum ledger says beyond the state: each edit, released or not."""
    from db_migrate.runner.tamper import ledger

    lines = []
    for c in changed:
        why = known.released_because(c.revision, c.path)
        mark = f"released: {why}" if why else f"not released ({known.unreleased_means()})"
        lines.append(f"  - {c.revision} ({c.path}): {ledger.describe_change(c, mark)}")
    note = (f"  ({known.note()})",) if known.note() else ()
    return (
        "",
        "Changed since applied (the file differs from what the database ran):",
        *report.first_few(lines, ledger.MORE_CHANGED),
        *note,
    )


def _unrecorded(unrecorded: Sequence[str]) -> Tuple[str, ...]:
    return (unrecorded_line(unrecorded),) if unrecorded else ()


def unrecorded_line(unrecorded: Sequence[str]) -> str:
    """The revisions applied without a checksum, named only while a reader can take them in: a
    database migrated by plain Alembic before adopting us has its whole history unrecorded."""
    n = len(unrecorded)
    named = ", ".join(report.first_few(unrecorded, "and {n} more (--output=json lists them all)"))
    return (
        f"Unrecorded: {n} applied revision{'s have' if n != 1 else ' has'} no checksum yet"
        " (applied outside pants db-migrate; the next db-migrate records the files as they are"
        f" now): {named}"
    )

"""`db-migrate --from-snapshot` inside the resolved environment: a cached snapshot (built by the
`snapshot` command, handed over in this sandbox) into the component's empty database, instead
of a replay. Under the migration lock, like a migration; the database ends as a replay leaves
it: the snapshot's objects and rows owned by the connecting role, the version table, and the
checksum ledger's rows for the files of this checkout. A dry run takes no lock and starts or
creates nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping

from db_migrate.core import applied, report
from db_migrate.core.alembic_ini import AlembicIni, parse_alembic_ini
from db_migrate.core.applied import current_heads
from db_migrate.core.contract import LoadSnapshotOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError
from db_migrate.runner.migration.database import locked_database
from db_migrate.runner.migration.dry_run import what_a_real_run_does_first
from db_migrate.runner.postgres.connection import ComponentDatabase, open_component_database
from db_migrate.runner.snapshot import load
from db_migrate.runner.tamper import ledger

Plan = RunnerPlan[LoadSnapshotOptions]


def run(plan: Plan, environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    outcome.direction, outcome.target = "upgrade", plan.options.target_label
    if plan.options.dry_run:
        return _dry_run(plan, ini, environ, outcome)
    snapshot = Path(plan.options.snapshot_file)
    inside = load.contents(snapshot)
    with locked_database(plan, ini, environ, plan.options.lock_wait) as db:
        _refuse_unless_empty(plan, ini, db, inside.schemas)
        print(
            f"{plan.component}: loading the snapshot into {db.source.url.masked()} ...", flush=True
        )
        started = time.perf_counter()
        capacity = load.lock_capacity(db.connection)
        loaded = load.restore(db.source.url, snapshot, inside.locks, capacity)
        outcome.seconds = time.perf_counter() - started
        after = current_heads(db.connection, ini.version_table)
        recorded = _record_checksums(plan, ini, db, after)
    _report(plan, db, loaded, recorded, after, outcome)
    return outcome.finish("loaded", after)


def _refuse_unless_empty(plan: Plan, ini: AlembicIni, db: ComponentDatabase, schemas) -> None:
    heads = current_heads(db.connection, ini.version_table)
    found = load.occupied(db.connection, schemas, ini.version_table)
    if found or heads:
        where = db.source.url.masked()
        raise ProblemError(load.not_empty(plan.component, plan.selector, where, found, heads))


def _record_checksums(plan: Plan, ini: AlembicIni, db: ComponentDatabase, after) -> int:
    """The ledger rows a replay writes: one per applied revision, its file's checksum."""
    why_not = ledger.ensure(db.connection, ini.version_table)
    if why_not:
        print(
            f"{report.WARNING} Warning: {plan.component}: tamper detection is off"
            f" ({report.mask(why_not)}); checksums are not recorded",
            flush=True,
        )
        return 0
    facts = {r.revision: r for r in plan.revisions}
    done = applied.applied_revisions(plan.revisions, after)
    found = applied.audit({}, done, facts)
    ledger.reconcile(db.connection, ini.version_table, found, facts)
    return len(found.unrecorded)


def source_text(options: LoadSnapshotOptions) -> str:
    if options.source == "built now":
        took = report.duration(options.build_seconds)
        return f"built now by a replay on a throwaway PostgreSQL ({took})"
    return f"{options.source} (no replay)"


def _report(plan: Plan, db, loaded: load.Loaded, recorded: int, after, outcome: Outcome) -> None:
    options = plan.options
    how = "one transaction" if loaded.one_transaction else "object by object"
    lines = [
        "",
        f"{report.SUCCESS} Snapshot loaded",
        "",
        f"Component: {plan.component}",
        f"Database: {db.source.url.masked()}",
        f"Revision: {report.BASE} → {report.describe_heads(after)} ({options.target_label})",
        f"Snapshot: {source_text(options)}",
        f"Loaded in: {report.duration(outcome.seconds)} (pg_restore, {how})",
        f"Checksums recorded: {recorded} revision{'s' if recorded != 1 else ''}",
    ]
    if loaded.retried_because:
        lines.append(f"Not in one transaction: {loaded.retried_because}")
    lines += ["", "Next steps:", f"- Check the state: {report.goal('db-status', plan.selector)}"]
    print("\n".join(lines), flush=True)
    outcome.extra["snapshot"] = {
        "revision": list(options.target),
        "source": options.source,
        "build_seconds": round(options.build_seconds, 4),
        "load_seconds": round(outcome.seconds, 4),
        "one_transaction": loaded.one_transaction,
        "checksums_recorded": recorded,
    }


def _dry_run(plan: Plan, ini: AlembicIni, environ, outcome: Outcome) -> Outcome:
    """What a real run would load, and whether this database could take it; nothing changed."""
    options = plan.options
    lines = []
    try:
        db = open_component_database(plan, ini, environ, start_dev_server=False)
    except ProblemError as e:
        first = what_a_real_run_does_first(plan, ini, environ, e.problem)
        if not first:
            raise
        lines += first
        where, heads = "a new database", ()
    else:
        with db.connection:
            _refuse_unless_empty(plan, ini, db, set())
        where, heads = db.source.url.masked(), ()
    lines += [
        f"{plan.component}: dry run of --from-snapshot on {where}",
        f"Would load the snapshot of {options.target_label} ({', '.join(options.target)}):"
        f" {report.BASE} → {report.describe_heads(options.target)}, instead of replaying"
        f" {len(applied.applied_revisions(plan.revisions, options.target))} revision(s)",
        "The snapshot comes from the cache when these inputs were snapshotted before, else a"
        " replay on a throwaway PostgreSQL builds it first (your database is not touched by it).",
        "Nothing was changed (--dry-run).",
    ]
    print("\n".join(lines), flush=True)
    return outcome.finish("dry-run", heads)

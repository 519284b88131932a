"""`db-migrate --from-snapshot` inside the resolved environment: a cached snapshot (built by the
`snapshot` command, handed over in this sandbox) into the component's empty database, instead
of a replay. Under the migration lock, like a migration; the database ends as a replay leaves
it: the snapshot's objects and rows owned by the connecting role, the version table, and the
checksum ledger's rows for the files of this checkout. With --snapshot-template a database
that does not exist yet is created as a clone of the snapshot's template instead
(`snapshot/templates.py`). A dry run takes no lock and starts or creates nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping, Optional

import psycopg

from db_migrate.core import applied, report
from db_migrate.core.alembic_ini import AlembicIni, parse_alembic_ini
from db_migrate.core.applied import current_heads
from db_migrate.core.contract import LoadSnapshotOptions, RunnerPlan
from db_migrate.core.database_url import resolve_url
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError, register_secret
from db_migrate.runner.migration.database import locked_database
from db_migrate.runner.migration.dry_run import what_a_real_run_does_first
from db_migrate.runner.postgres.connection import ComponentDatabase, open_component_database
from db_migrate.runner.postgres.dev_server import DevServerSettings, ensure_running
from db_migrate.runner.snapshot import load, templates, toc
from db_migrate.runner.tamper import ledger

Plan = RunnerPlan[LoadSnapshotOptions]


def run(plan: Plan, environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    outcome.direction, outcome.target = "upgrade", plan.options.target_label
    if plan.options.dry_run:
        return _dry_run(plan, ini, environ, outcome)
    snapshot = Path(plan.options.snapshot_file)
    cloned = _new_database(plan, ini, environ, snapshot)
    with locked_database(plan, ini, environ, plan.options.lock_wait) as db:
        if cloned is None:
            loaded = _load(plan, ini, db, snapshot, outcome)
        else:  # created by this run, as a clone: nobody else's, nothing to refuse
            loaded = cloned.built or load.Loaded()
            outcome.seconds = cloned.build_seconds + cloned.clone_seconds
        after = current_heads(db.connection, ini.version_table)
        recorded = _record_checksums(plan, ini, db, after)
    _report(plan, db, loaded, recorded, after, outcome, cloned)
    return outcome.finish("loaded", after)


def _load(plan: Plan, ini: AlembicIni, db, snapshot: Path, outcome: Outcome) -> load.Loaded:
    """The snapshot into the database, which must be empty."""
    inside = toc.contents(snapshot)
    _refuse_unless_empty(plan, ini, db, inside.schemas)
    print(f"{plan.component}: loading the snapshot into {db.source.url.masked()} ...", flush=True)
    started = time.perf_counter()
    capacity = load.lock_capacity(db.connection)
    loaded = load.restore(db.source.url, inside, capacity)
    outcome.seconds = time.perf_counter() - started
    return loaded


def _new_database(
    plan: Plan, ini: AlembicIni, environ, snapshot: Path
) -> Optional[templates.Cloned]:
    """With --snapshot-template, a database that does not exist yet, created as a clone of the
    snapshot's template (`snapshot/templates.py`); None when it exists, or without the flag.

    Not by default, not even on the development server: the first copy on a server also builds
    the template, a load and a copy (more than the load alone: docs/benchmarks.md, "Snapshots"),
    and `db-dev-server --action=reset` removes it with the server, so a developer who resets
    would pay that every time for a copy that never comes.
    """
    if not plan.options.snapshot_template:
        return None
    source = resolve_url(plan.url_env, ini.url, environ, plan.component, plan.config)
    register_secret(*source.url.secrets())
    dev = DevServerSettings.of(plan.buildroot, plan.shared)
    if dev.serves(source):
        ensure_running(dev, source.url, plan.component)
    try:
        return templates.create_as_clone(source.url, plan.component, snapshot)
    except psycopg.Error as e:
        raise ProblemError(templates.cannot_clone(plan.component, source, e)) from None


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


def _how(loaded: load.Loaded, cloned: Optional[templates.Cloned]) -> str:
    how = "one transaction" if loaded.one_transaction else f"{loaded.transactions} transactions"
    if cloned is None:
        return how
    if cloned.built is None:
        return f"a clone of template {cloned.template}, kept on the server"
    built, copied = report.duration(cloned.build_seconds), report.duration(cloned.clone_seconds)
    return (
        f"a clone of template {cloned.template}, built now in {built} ({how}),"
        f" copied in {copied}"
    )


def _report(
    plan: Plan, db, loaded: load.Loaded, recorded: int, after, outcome: Outcome, cloned
) -> None:
    options = plan.options
    lines = [
        "",
        f"{report.SUCCESS} Snapshot loaded",
        "",
        f"Component: {plan.component}",
        f"Database: {db.source.url.masked()}",
        f"Revision: {report.BASE} → {report.describe_heads(after)} ({options.target_label})",
        f"Snapshot: {source_text(options)}",
        f"Loaded in: {report.duration(outcome.seconds)} ({_how(loaded, cloned)})",
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
        "transactions": loaded.transactions,
        "checksums_recorded": recorded,
        "template": None
        if cloned is None
        else {
            "name": cloned.template,
            "built_now": cloned.built is not None,
            "build_seconds": round(cloned.build_seconds, 4),
            "clone_seconds": round(cloned.clone_seconds, 4),
        },
    }


def _dry_run(plan: Plan, ini: AlembicIni, environ, outcome: Outcome) -> Outcome:
    """What a real run would load, and whether this database could take it; nothing changed."""
    options = plan.options
    lines = []
    try:
        db = open_component_database(plan, ini, environ, start_dev_server=False)
    except ProblemError as e:
        first = what_a_real_run_does_first(plan, ini, environ, e.problem)
        missing = (e.problem.details or ("",))[0].startswith("Database '")
        if not first and not (missing and options.snapshot_template):
            raise
        lines += first or [f"{plan.component}: {e.problem.details[0]}"]
        if options.snapshot_template:
            lines.append(
                f"{plan.component}: a real run would create it as a clone of the snapshot's"
                " template on that server (the first such load there builds the template)"
            )
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

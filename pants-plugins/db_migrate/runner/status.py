"""`db-status` inside the resolved environment: where a database stands against the scripts.

Read-only: one autocommit connection that only SELECTs Alembic's version table and the checksum
ledger, no lock, no revision file loaded (the plan carries every header; Alembic's `RevisionMap`
is built from them). A development server that is down is reported as such and never started.
The classification (`classify`) and the text (`render_status`, `render_history`) are pure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence, Tuple

from db_migrate import report
from db_migrate.alembic_ini import parse_alembic_ini
from db_migrate.history import History, TargetError
from db_migrate.plan import RunnerPlan
from db_migrate.report import ProblemError
from db_migrate.revisions import Revision
from db_migrate.runner.outcome import Outcome
from db_migrate.runner.scripts import load_history

UP_TO_DATE = "up-to-date"
BEHIND = "behind"
DIVERGED = "diverged"
NO_REVISION = "no-revision"
AHEAD = "ahead"
NOT_RUNNING = "not-running"
CHANGED = "changed"  # applied revisions whose files were edited since they ran

STATES = (UP_TO_DATE, BEHIND, DIVERGED, NO_REVISION, AHEAD, NOT_RUNNING, CHANGED)


@dataclass(frozen=True)
class ComponentStatus:
    state: str
    current: Tuple[str, ...]  # the version table's rows (empty: nothing applied)
    heads: Tuple[str, ...]  # heads of the scripts
    pending: Tuple[Revision, ...] = ()  # what `upgrade heads` would apply, in order
    unknown: Tuple[str, ...] = ()  # current revisions no file defines
    why: str = ""  # for ahead/unknown and not-running: the reason, in words
    changed: Tuple[str, ...] = ()  # applied revisions whose file differs from what ran
    released: Tuple[str, ...] = ()  # those of `changed` that are released (never edited)
    rerun: str = ""  # for unreleased changed revisions: the commands that run the edit


def classify(history: History, current: Sequence[str]) -> ComponentStatus:
    """The state of a database whose version table holds `current`, against `history`."""
    current = tuple(current)
    heads = tuple(history.heads)
    unknown = tuple(c for c in current if c not in history)
    if unknown:
        return ComponentStatus(
            AHEAD,
            current,
            heads,
            unknown=unknown,
            why=f"the database is at {', '.join(unknown)}, which no revision file here defines",
        )
    try:
        pending = history.upgrade_plan("heads", current)
    except TargetError as e:
        return ComponentStatus(
            AHEAD, current, heads, why=f"Alembic cannot plan from {', '.join(current)}: {e}"
        )
    if len(heads) > 1:
        return ComponentStatus(DIVERGED, current, heads, pending)
    if not current:
        return ComponentStatus(NO_REVISION, current, heads, pending)
    if not pending:
        return ComponentStatus(UP_TO_DATE, current, heads)
    return ComponentStatus(BEHIND, current, heads, pending)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def state_line(status: ComponentStatus) -> str:
    n = len(status.pending)
    if status.state == UP_TO_DATE:
        return f"{report.SUCCESS} Up-to-date"
    if status.state == BEHIND:
        return f"{report.WARNING} Behind ({n} pending)"
    if status.state == NO_REVISION:
        return f"{report.WARNING} No revision (fresh database, {n} pending)"
    if status.state == DIVERGED:
        return f"{report.FAILURE} Diverged ({len(status.heads)} heads in the scripts)"
    if status.state == AHEAD:
        return f"{report.FAILURE} Ahead/unknown: {status.why}"
    if status.state == CHANGED:
        return f"{report.WARNING} Changed since applied ({_changed_counts(status)})"
    return f"{report.WARNING} Not running: {status.why}"


def _changed_counts(status: ComponentStatus) -> str:
    """`1 released revision`, `2 unreleased revisions: work in progress`, or both counts."""
    k, r = len(status.changed), len(status.released)
    more = f", {len(status.pending)} pending" if status.pending else ""
    if r == k:
        return f"{_plural(k, 'released revision')}{more}"
    if r == 0:
        return f"{_plural(k, 'unreleased revision')}: work in progress{more}"
    return f"{_plural(k, 'revision')}: {r} released, {k - r} unreleased{more}"


def short_state(status: ComponentStatus) -> str:
    """For the one-line summary of several components."""
    if status.state in (BEHIND, NO_REVISION):
        return f"{status.state} ({len(status.pending)} pending)"
    return status.state


def _describe(history: History, revision: str) -> str:
    rev = history.get(revision)
    return f"{revision}: {rev.message}" if rev is not None and rev.message else revision


def render_status(
    component: str,
    selector: str,
    config: str,
    database: str,
    history: History,
    status: ComponentStatus,
) -> str:
    lines = [f"Component: {component}", f"Config: {config}", f"Database: {database}"]
    if status.state == NOT_RUNNING:
        lines.append("Current revision: unknown (database not running)")
    elif not status.current:
        lines.append("Current revision: none (fresh database: no revision applied)")
    elif len(status.current) == 1:
        (only,) = status.current
        suffix = " (unknown to these scripts)" if only in status.unknown else ""
        lines.append(f"Current revision: {_describe(history, only)}{suffix}")
    else:
        lines.append(f"Current revisions ({len(status.current)}):")
        for c in status.current:
            suffix = " (unknown to these scripts)" if c in status.unknown else ""
            lines.append(f"  - {_describe(history, c)}{suffix}")
    if len(status.heads) == 1:
        lines.append(f"Head revision: {_describe(history, status.heads[0])}")
    else:
        lines.append(f"Head revisions ({len(status.heads)}, diverged):")
        for h in status.heads:
            rev = history.get(h)
            lines.append(f"  - {_describe(history, h)} ({rev.path if rev else '?'})")
    lines.append(f"State: {state_line(status)}")
    if status.pending:
        title = (
            "Pending migrations (to every head):"
            if status.state == DIVERGED
            else "Pending migrations:"
        )
        lines += ["", title]
        lines += [f"  - {r.revision}: {r.message}" for r in status.pending]
    steps = next_steps(selector, status)
    if steps:
        lines += ["", "Next steps:", *(f"- {s}" for s in steps)]
    return "\n".join(lines)


def next_steps(selector: str, status: ComponentStatus) -> Tuple[str, ...]:
    if status.state in (BEHIND, NO_REVISION):
        return (f"Apply the pending migrations: {report.goal('db-migrate', selector)}",)
    if status.state == DIVERGED:
        return (
            f"Resolve the heads: {report.goal('db-rebase', selector)}"
            " (a merge revision when every head is on the main branch, a rebase of your own branch otherwise)",
            f"Preview first: {report.goal('db-rebase', selector, '--dry-run')}",
            f"Then apply: {report.goal('db-migrate', selector)}",
        )
    if status.state == AHEAD:
        return (
            "Pull the latest code (git pull) or check out the branch that migrated this database",
            f"List the revisions these scripts know: {report.goal('db-status', selector, '--history')}",
            "Point the component at another database if this one belongs to someone else",
        )
    if status.state == CHANGED:
        return _changed_steps(selector, status)
    if status.state == NOT_RUNNING:
        return (
            "Start it: pants db-dev-server --action=start",
            f"Or migrate, which starts it on demand: {report.goal('db-migrate', selector)}",
        )
    return ()


def _changed_steps(selector: str, status: ComponentStatus) -> Tuple[str, ...]:
    from db_migrate.runner import ledger

    steps = []
    if status.rerun:
        steps.append(f"Run the edit of your own unreleased revision: {status.rerun}")
    if status.released:
        steps += [
            "A released revision's file was edited: revert the edit (a released migration is never"
            " edited) and add a new revision instead",
            f"See what changed: git log -p -- {ledger.git_paths(status.why.split())}",
            f"If the edit is harmless (formatting, comments): {report.goal('db-migrate', selector, '--allow-changed')}",
        ]
    return tuple(steps)


def render_history(history: History, current: Sequence[str] = ()) -> str:
    """Every revision from base to head as `rev: message`, the database's and the heads marked."""
    ordered = history.base_to_head()
    heads = set(history.heads)
    current = set(current)
    lines = [f"History ({_plural(len(ordered), 'revision')}, base → head):"]
    for rev in ordered:
        marks = []
        if len(rev.down_revisions) > 1:
            marks.append("merges " + ", ".join(rev.down_revisions))
        if rev.revision in heads:
            marks.append("head")
        if rev.revision in current:
            marks.append("current")
        suffix = f" ({'; '.join(marks)})" if marks else ""
        lines.append(f"  - {rev.revision}: {rev.message}{suffix}")
    return "\n".join(lines)


def run(plan: RunnerPlan, environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    from db_migrate.runner.connection import peek_database
    from db_migrate.runner.database import resolve_url
    from db_migrate.runner.devserver import DevServerSettings

    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    history = load_history(plan)
    source = resolve_url(plan.url_env, ini.url, environ, plan.component, plan.config)
    dev = DevServerSettings.from_options(plan.buildroot, plan.options)
    database = source.url.masked()
    status: Optional[ComponentStatus] = None
    found = known = None
    try:
        db = peek_database(plan, ini, environ)
    except ProblemError as e:
        answer = _without_database(e, source, history) if dev.serves(source) else None
        if answer is None:
            if plan.option("history") and not dev.serves(source):
                print(render_history(history), flush=True)
                print("", flush=True)
            raise
        status, where = answer
        database += where
    else:
        status, found, known = _read_database(plan, ini, db, history)

    if plan.option("history"):
        print(render_history(history, status.current), flush=True)
        print("", flush=True)
    print(
        render_status(plan.component, plan.selector, plan.config, database, history, status),
        flush=True,
    )
    release = matching_release(plan.option("release_pins") or (), status.current)
    if release:
        print(f"Release: the database matches release {release}", flush=True)
    outcome.before = status.current
    mine = set(status.changed) - set(status.released)
    outcome.extra = {
        "state": status.state,
        "heads": list(status.heads),
        "pending": [r.revision for r in status.pending],
        "unknown": list(status.unknown),
        "release": release,
        "changed_revisions": list(status.changed),
        "unreleased_changed": [c for c in status.changed if c in mine],
        "unrecorded_revisions": list(found.unrecorded) if found else [],
    }
    outcome.finish(status.state, status.current)
    _print_ledger(found, known)
    return outcome


def _without_database(e: ProblemError, source, history):
    """(the status, what to add to the database's name) of a development server that is down or
    lacks this component's database; None for any other connection problem (it is raised)."""
    heads = tuple(history.heads)
    reason = e.problem.details[0] if e.problem.details else ""
    if e.problem.kind == "cannot_connect" and reason.startswith("Connection refused"):
        why = f"the development PostgreSQL on {source.url.where} is not running (db-status never starts it)"
        return ComponentStatus(NOT_RUNNING, (), heads, why=why), " (development server)"
    if e.problem.kind == "cannot_connect" and reason.startswith("Database '"):
        # The dev server runs, and this component's database is not created yet: nothing applied.
        status = ComponentStatus(NO_REVISION, (), heads, history.upgrade_plan("heads", ()))
        if len(heads) > 1:
            status = ComponentStatus(DIVERGED, (), heads, status.pending)
        return status, " (development server; database not created yet, db-migrate creates it)"
    return None


def _read_database(plan: RunnerPlan, ini, db, graph):
    """(the status, the ledger's audit, the releases of its changed files) from one read-only
    connection."""
    from db_migrate.runner import ledger, released
    from db_migrate.runner.versions import current_heads

    with db.connection as conn:
        current = current_heads(conn, ini.version_table)
        rows = ledger.recorded(conn, ini.version_table) or {}
    status = classify(graph, current)
    facts = {r.revision: r for r in plan.revisions}
    found = ledger.audit(rows, ledger.applied_revisions(plan.revisions, current), facts)
    if not found.changed:
        return status, found, None
    known = released.releases(plan, [c.path for c in found.changed])
    shipped = [c for c in found.changed if known.released_because(c.revision, c.path)]
    shipped_ids = {c.revision for c in shipped}
    mine = [c.revision for c in found.changed if c.revision not in shipped_ids]
    if status.state in (UP_TO_DATE, BEHIND):
        status = dataclasses.replace(
            status,
            state=CHANGED,
            changed=tuple(c.revision for c in found.changed),
            released=tuple(c.revision for c in shipped),
            why=" ".join(c.path for c in shipped),
            rerun=released.rerun_command(plan, mine) if mine else "",
        )
    return status, found, known


def _print_ledger(found, known) -> None:
    """What the checksum ledger says beyond the state: each edit, and what was never recorded."""
    from db_migrate.runner import ledger

    if found is None:
        return
    if found.changed:
        print("", flush=True)
        print("Changed since applied (the file differs from what the database ran):", flush=True)
        lines = []
        for c in found.changed:
            why = known.released_because(c.revision, c.path)
            mark = f"released: {why}" if why else f"not released ({known.unreleased_means()})"
            lines.append(f"  - {c.revision} ({c.path}): {ledger.describe_change(c, mark)}")
        print("\n".join(report.first_few(lines, ledger.MORE_CHANGED)), flush=True)
        if known.note():
            print(f"  ({known.note()})", flush=True)
    if found.unrecorded:
        print(unrecorded_line(found.unrecorded), flush=True)


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


def matching_release(pins: Sequence[Sequence[str]], current: Sequence[str]) -> Optional[str]:
    """The newest pinned release whose revision is exactly what the database holds (pure)."""
    matches = [name for name, revision in pins if (revision,) == tuple(current)]
    return matches[-1] if matches else None

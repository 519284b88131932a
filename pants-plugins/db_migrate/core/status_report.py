"""What `db-status` says of a component's database: from the runner's facts and the history.

Pure, and run in pantsd: the goal classifies and renders there, against the history it keeps
(Alembic's `RevisionMap`), so the runner only reads the version table and the ledger. The runner
imports this module for `DatabaseFacts`: nothing here imports Alembic when imported.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from db_migrate.core import report
from db_migrate.core.revision_file import Revision

if TYPE_CHECKING:  # the runner imports this module and must not import Alembic for it
    from db_migrate.core.history import History

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
    from db_migrate.core.history import TargetError

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
    steps = []
    if status.rerun:
        steps.append(f"Run the edit of your own unreleased revision: {status.rerun}")
    if status.released:
        steps += [
            "A released revision's file was edited: revert the edit (a released migration is never"
            " edited) and add a new revision instead",
            f"See what changed: git log -p -- {report.git_paths(status.why.split())}",
            "If the edit is harmless (formatting, comments), record it as reviewed once: "
            + report.goal(
                "db-migrate", selector, "--accept-changed", '--reason="<why the edit is harmless>"'
            ),
            f"Or proceed once without recording it: {report.goal('db-migrate', selector, '--allow-changed')}",
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


def matching_release(pins: Sequence[Sequence[str]], current: Sequence[str]) -> Optional[str]:
    """The newest pinned release whose revision is exactly what the database holds (pure)."""
    matches = [name for name, revision in pins if (revision,) == tuple(current)]
    return matches[-1] if matches else None


FACTS = (
    "status_facts"  # the runner's outcome entry holding its `DatabaseFacts` (the goal removes it)
)
READ = "read"  # the runner read the version table (and the ledger)
NOT_CREATED = "not-created"  # the development server runs; this component's database is not created


@dataclass(frozen=True)
class DatabaseFacts:
    """What the runner found out about a component's database: all `db-status` needs besides the
    history. The ledger's lines are rendered by the runner, which knows the releases (git)."""

    reached: str  # READ, NOT_CREATED or NOT_RUNNING
    database: str  # as printed: the URL without its password, and what it is
    current: Tuple[str, ...] = ()  # the version table's rows (READ)
    why: str = ""  # NOT_RUNNING: the reason, in words
    changed: Tuple[str, ...] = ()  # applied revisions whose file differs from what ran
    released: Tuple[str, ...] = ()  # those of `changed` that are released
    released_paths: str = ""  # their files
    rerun: str = ""  # the commands that run the edit of the unreleased ones
    ledger_lines: Tuple[str, ...] = ()  # printed after the status
    unrecorded: Tuple[str, ...] = ()  # applied revisions without a checksum
    # Edits of released revisions accepted as reviewed (`AcceptedEdit.to_dict()`), oldest first,
    # each with its `line` as printed.
    accepted_edits: Tuple[Dict[str, Any], ...] = ()

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> DatabaseFacts:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def status_of(history: History, facts: DatabaseFacts) -> ComponentStatus:
    """The state of the database `facts` describe, against `history`."""
    heads = tuple(history.heads)
    if facts.reached == NOT_RUNNING:
        return ComponentStatus(NOT_RUNNING, (), heads, why=facts.why)
    if facts.reached == NOT_CREATED:  # nothing applied yet
        pending = history.upgrade_plan("heads", ())
        return ComponentStatus(DIVERGED if len(heads) > 1 else NO_REVISION, (), heads, pending)
    status = classify(history, facts.current)
    if facts.changed and status.state in (UP_TO_DATE, BEHIND):
        status = dataclasses.replace(
            status,
            state=CHANGED,
            changed=facts.changed,
            released=facts.released,
            why=facts.released_paths,
            rerun=facts.rerun,
        )
    return status


def status_text(
    component: str,
    selector: str,
    config: str,
    history: History,
    facts: DatabaseFacts,
    status: ComponentStatus,
    *,
    show_history: bool,
    release: Optional[str],
) -> str:
    """Everything `db-status` prints for one component, in order."""
    lines: List[str] = []
    if show_history:
        lines += [render_history(history, status.current), ""]
    lines.append(render_status(component, selector, config, facts.database, history, status))
    if release:
        lines.append(f"Release: the database matches release {release}")
    return "\n".join([*lines, *facts.ledger_lines, *accepted_lines(facts, show_history)])


def accepted_lines(facts: DatabaseFacts, show_history: bool) -> Tuple[str, ...]:
    """The accepted edits: each one with `--history`, else how many there are."""
    edits = facts.accepted_edits
    if not edits:
        return ()
    if not show_history:
        return (
            f"Accepted edits: {_plural(len(edits), 'edit')} of released revisions recorded as"
            " reviewed (--history lists them)",
        )
    return (
        "",
        f"Accepted edits ({len(edits)}, oldest first; the ledger expects the accepted files):",
        *(f"  - {e['line']}" for e in edits),
    )


def outcome_fields(
    facts: DatabaseFacts, status: ComponentStatus, release: Optional[str]
) -> Dict[str, Any]:
    """The component's entry of the JSON report (`docs/report-schema.md`, db-status)."""
    mine = set(status.changed) - set(status.released)
    return {
        "status": status.state,
        "before": list(status.current),
        "after": list(status.current),
        "state": status.state,
        "heads": list(status.heads),
        "pending": [r.revision for r in status.pending],
        "unknown": list(status.unknown),
        "release": release,
        "changed_revisions": list(status.changed),
        "unreleased_changed": [c for c in status.changed if c in mine],
        "unrecorded_revisions": list(facts.unrecorded),
        "accepted_edits": [
            {k: v for k, v in e.items() if k != "line"} for e in facts.accepted_edits
        ],
    }

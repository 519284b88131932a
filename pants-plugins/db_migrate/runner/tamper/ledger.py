"""Tamper detection: the checksum of every applied revision's file, kept next to the version table.

Alembic records only which revisions ran, not what they were; a released migration edited after
it ran goes unnoticed. The ledger (`pants_db_migrate.<version_table>_checksums`, a schema of its
own so autogenerate and the application never see it) holds the sha256 of each applied revision's
file. A row is written in the revision's own transaction (Alembic's `on_version_apply` hook), so
a killed run loses nothing and a failed one-transaction run leaves no row behind. Every run that
connects first adopts applied revisions that have no row (applied by plain Alembic) and drops rows
of revisions no longer applied (downgraded by plain Alembic); `db-status` reports both kinds.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Sequence, Set, Tuple

import psycopg
from psycopg import sql

from db_migrate.core.report import WARNING, Problem, first_few, git_paths
from db_migrate.core.revision_file import Revision
from db_migrate.core.revision_order import base_to_head_order
from db_migrate.runner.postgres.version_table import split_table

LEDGER_SCHEMA = "pants_db_migrate"


CHECKSUMS = "checksums"
ACCEPTED = "accepted_edits"  # the edits `db-migrate --accept-changed` recorded (`accepted.py`)
TIME_FORMAT = "YYYY-MM-DD HH24:MI:SS TZ"


def ledger_table(version_table: str, kind: str = CHECKSUMS) -> Tuple[str, str]:
    schema, table = split_table(version_table)
    return LEDGER_SCHEMA, f"{schema + '_' if schema else ''}{table}_{kind}"


def table_ident(version_table: str, kind: str = CHECKSUMS) -> sql.Composable:
    return sql.Identifier(*ledger_table(version_table, kind))


def qualified_name(version_table: str, kind: str = CHECKSUMS) -> str:
    schema, table = ledger_table(version_table, kind)
    return f'"{schema}"."{table}"'


@dataclass(frozen=True)
class Recorded:
    revision: str
    checksum: str
    path: str
    applied_at: str
    accepted_at: str = ""  # the checksum is of an edit accepted then, not of the file that ran


# When a row's checksum is an accepted edit's: accepted since the revision was (re)applied.
_ACCEPTED_AT = sql.SQL(
    "(SELECT to_char(max(a.accepted_at), {fmt}) FROM {accepted} a WHERE a.revision = c.revision"
    " AND a.new_checksum = c.checksum AND a.accepted_at >= c.applied_at)"
)


def recorded(conn: psycopg.Connection, version_table: str) -> Optional[Dict[str, Recorded]]:
    """The ledger's rows by revision; None when there is no ledger (yet, or cannot be).

    A ledger from before accepted edits has no table of them: its rows read as they always did.
    """
    has_ledger, has_accepted = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
        (qualified_name(version_table), qualified_name(version_table, ACCEPTED)),
    ).fetchone()
    if not has_ledger:
        return None
    accepted_at = (
        _ACCEPTED_AT.format(
            fmt=sql.Literal(TIME_FORMAT), accepted=table_ident(version_table, ACCEPTED)
        )
        if has_accepted
        else sql.SQL("NULL")
    )
    rows = conn.execute(
        sql.SQL(
            "SELECT c.revision, c.checksum, c.path, to_char(c.applied_at, {fmt}),"
            " coalesce({accepted_at}, '') FROM {table} c"
        ).format(
            fmt=sql.Literal(TIME_FORMAT), accepted_at=accepted_at, table=table_ident(version_table)
        )
    ).fetchall()
    return {r[0]: Recorded(*r) for r in rows}


def ensure(conn: psycopg.Connection, version_table: str) -> Optional[str]:
    """Create the ledger if it is missing (once); None when usable, else why it is not.

    Runs before any migration, in a transaction of its own: a role that may not create a schema
    or write the table gets a warning and migrates without tamper detection, never a failure
    after its migrations committed.
    """
    name = qualified_name(version_table)
    try:
        with conn.transaction():
            if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(LEDGER_SCHEMA))
                )
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (revision varchar(255) PRIMARY KEY, "
                        "checksum char(64) NOT NULL, path text NOT NULL, "
                        "applied_at timestamptz NOT NULL DEFAULT now())"
                    ).format(table_ident(version_table))
                )
            writable = conn.execute(
                "SELECT has_table_privilege(%s, 'INSERT, UPDATE, DELETE')", (name,)
            ).fetchone()[0]
    except psycopg.Error as e:
        return (str(e).strip().splitlines() or [type(e).__name__])[0]
    return None if writable else f"the role may not write {name}"


def applied_revisions(revisions: Sequence[Revision], heads: Iterable[str]) -> Set[str]:
    """Every revision a database at `heads` has applied: the heads and all they build on (pure)."""
    parents = {r.revision: (*r.down_revisions, *r.depends_on) for r in revisions}
    seen: Set[str] = set()
    stack = list(heads)
    while stack:
        revision = stack.pop()
        if revision not in seen:
            seen.add(revision)
            stack.extend(parents.get(revision, ()))
    return seen


def ancestor_counts(revisions: Sequence[Revision], ids: Iterable[str]) -> Dict[str, int]:
    """`len(applied_revisions(revisions, [r]))` for each of `ids`, in one pass (pure).

    Parents first (`base_to_head_order`), each revision's ancestry is a bitmask, its own bit OR
    its parents' masks (a parent no file defines counts as itself, as in `applied_revisions`):
    after a mass edit of 5,000 revisions this costs milliseconds, a walk per revision seconds.
    """
    bits: Dict[str, int] = {}

    def bit(revision: str) -> int:
        return bits.setdefault(revision, 1 << len(bits))

    masks: Dict[str, int] = {}
    for fact in base_to_head_order(revisions):
        mask = bit(fact.revision)
        for parent in (*fact.down_revisions, *fact.depends_on):
            mask |= masks.get(parent) or bit(parent)
        masks[fact.revision] = mask
    return {r: bin(masks.get(r) or bit(r)).count("1") for r in ids}


@dataclass(frozen=True)
class ChangedRevision:
    revision: str
    path: str
    recorded: str
    current: str
    applied_at: str
    accepted_at: str = ""  # `recorded` is an edit accepted then (not the file that ran)


@dataclass(frozen=True)
class Audit:
    """The ledger against the database's applied revisions and the files of this checkout."""

    changed: Tuple[ChangedRevision, ...] = ()  # applied, recorded, and the file differs
    unrecorded: Tuple[str, ...] = ()  # applied without a row (plain Alembic, or no ledger before)
    stale: Tuple[str, ...] = ()  # rows of revisions no longer applied


def audit(rows: Mapping[str, Recorded], applied: Set[str], facts: Mapping[str, Revision]) -> Audit:
    changed = tuple(
        ChangedRevision(
            r,
            facts[r].path or row.path,
            row.checksum,
            facts[r].checksum,
            row.applied_at,
            row.accepted_at,
        )
        for r, row in sorted(rows.items())
        if r in applied and r in facts and facts[r].checksum and row.checksum != facts[r].checksum
    )
    unrecorded = tuple(
        sorted(r for r in applied if r not in rows and r in facts and facts[r].checksum)
    )
    stale = tuple(sorted(r for r in rows if r not in applied))
    return Audit(changed, unrecorded, stale)


def reconcile(conn: psycopg.Connection, version_table: str, found: Audit, facts) -> None:
    """Adopt the unrecorded revisions (their current checksum) and drop the stale rows."""
    table = table_ident(version_table)
    with conn.transaction():
        if found.stale:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE revision = ANY(%s)").format(table),
                (list(found.stale),),
            )
        if found.unrecorded:
            with conn.cursor() as cur:
                cur.executemany(
                    sql.SQL(
                        "INSERT INTO {} (revision, checksum, path) VALUES (%s, %s, %s) "
                        "ON CONFLICT (revision) DO NOTHING"
                    ).format(table),
                    [(r, facts[r].checksum, facts[r].path) for r in found.unrecorded],
                )


MORE_CHANGED = "  ... and {n} more (--output=json lists every changed revision)"


def describe_change(c: ChangedRevision, why: str = "") -> str:
    """`ran with sha256 …, the file is now …`: what the database ran (or what was accepted
    since) against what is here."""
    was = (
        f"accepted as sha256 {c.recorded[:12]}… on {c.accepted_at}"
        if c.accepted_at
        else f"ran with sha256 {c.recorded[:12]}…"
    )
    return f"{was}, the file is now {c.current[:12]}… (applied {c.applied_at}{'; ' + why if why else ''})"


def changed_problem(
    component: str,
    changed: Sequence[ChangedRevision],
    retry: str,
    released: Mapping[str, str],
    accept: str = "pants db-migrate --accept-changed --reason=...",
) -> Problem:
    """Released revisions edited after they ran; `released` says why each is released; `accept`
    is the command that records the edit as reviewed, `retry` the one that proceeds once."""
    entries = [
        f"  - {c.revision} ({c.path}): " + describe_change(c, f"released: {released[c.revision]}")
        for c in changed
    ]
    return Problem(
        title="Applied migration changed since it ran",
        details=(
            f"{len(changed)} revision file(s) of {component} differ from what the database ran:",
            *first_few(entries, MORE_CHANGED),
        ),
        actions=(
            "Never edit a released migration: revert the edit and add a new revision instead",
            f"See what changed: git log -p -- {git_paths([c.path for c in changed])}",
            f"If the edit is harmless (formatting, comments), record it as reviewed once:"
            f" {accept}",
            f"Or proceed this once without recording it: {retry}",
        ),
        kind="changed_revision",
    )


def work_in_progress(
    component: str, changed: Sequence[ChangedRevision], unreleased: str, rerun: str
) -> str:
    """The warning for your own unreleased revisions edited since they ran: run the edit."""
    warnings = [
        f"{WARNING} Warning: {component}: {c.revision} ({c.path}) changed since it ran, not released"
        f" ({unreleased}): your work in progress; {describe_change(c)}"
        for c in changed
    ]
    lines = list(first_few(warnings, MORE_CHANGED))
    lines += [
        "  A downgrade runs the file as it is now; upgrading again runs it and records its new checksum.",
        f"  To run the edit: {rerun}",
    ]
    return "\n".join(lines)


class Book:
    """`on_version_apply`: one ledger row per revision, written in that revision's transaction."""

    def __init__(self, version_table: str, enabled: bool, facts: Mapping[str, Revision]) -> None:
        self.enabled = enabled
        self.facts = facts
        self._upsert = (
            f"INSERT INTO {qualified_name(version_table)} (revision, checksum, path) "
            "VALUES (%(revision)s, %(checksum)s, %(path)s) ON CONFLICT (revision) DO UPDATE SET "
            "checksum = excluded.checksum, path = excluded.path, applied_at = now()"
        )
        self._delete = f"DELETE FROM {qualified_name(version_table)} WHERE revision = %(revision)s"

    def note(self, ctx, step) -> None:
        """The checksum is of the file Alembic ran (db-rebase may rewrite files mid-run)."""
        if not self.enabled:
            return
        if step.is_upgrade:
            content = Path(step.path).read_bytes()
            fact = self.facts.get(step.revision)
            params = {
                "revision": step.revision,
                "checksum": hashlib.sha256(content).hexdigest(),
                "path": fact.path if fact else os.path.relpath(step.path),
            }
            ctx.connection.exec_driver_sql(self._upsert, params)
        else:
            ctx.connection.exec_driver_sql(self._delete, {"revision": step.revision})

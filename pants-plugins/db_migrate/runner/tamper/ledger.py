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
import json
import os
from pathlib import Path
from typing import Mapping, Optional, Sequence

import psycopg
from psycopg import sql

from db_migrate.core.applied import (
    LEDGER_SCHEMA,
    Audit,
    ChangedRevision,
    qualified_name,
    table_ident,
)
from db_migrate.core.report import WARNING, Problem, first_few, first_line, git_paths
from db_migrate.core.revision_file import Revision


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
        return first_line(e)
    return None if writable else f"the role may not write {name}"


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
            # One statement of one JSON text, not a row each: a snapshot of 5,000 revisions
            # records them all at once (as arrays, psycopg's Python dumper took 40 ms of it).
            rows = [
                {"revision": r, "checksum": facts[r].checksum, "path": facts[r].path}
                for r in found.unrecorded
            ]
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (revision, checksum, path)"
                    " SELECT revision, checksum, path FROM json_to_recordset(%s::json)"
                    " AS r(revision text, checksum text, path text)"
                    " ON CONFLICT (revision) DO NOTHING"
                ).format(table),
                (json.dumps(rows),),
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

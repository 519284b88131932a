"""Tamper detection: the checksum of every applied revision's file, kept next to the version table.

Alembic records only which revisions ran, not what they were; a released migration edited after
it ran goes unnoticed. When `db-migrate` applies a revision it records the sha256 of its file
(computed by Pants) in `<version_table>_checksums`, in the revision's own transaction; a
downgrade removes the row. Pre-flight and `db-status` compare the recorded checksums with the
files of this checkout.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Tuple

import psycopg
from psycopg import sql

from db_migrate import report
from db_migrate.report import Problem
from db_migrate.runner.versions import split_table

LEDGER_SCHEMA = "pants_db_migrate"


def ledger_table(version_table: str) -> Tuple[Optional[str], str]:
    """Our own schema, so the ledger never shows up in the application's (autogenerate only
    compares the default schema) and a downgrade to base leaves `public` as Alembic leaves it."""
    schema, table = split_table(version_table)
    return LEDGER_SCHEMA, f"{schema + '_' if schema else ''}{table}_checksums"


def _ident(version_table: str) -> sql.Composable:
    schema, table = ledger_table(version_table)
    return sql.Identifier(schema, table) if schema else sql.Identifier(table)


def _create_sql(version_table: str) -> str:
    schema, table = ledger_table(version_table)
    name = f'"{schema}"."{table}"' if schema else f'"{table}"'
    return (
        f'CREATE SCHEMA IF NOT EXISTS "{schema}"; '
        f"CREATE TABLE IF NOT EXISTS {name} (revision varchar(255) PRIMARY KEY, "
        "checksum char(64) NOT NULL, path text NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now())"
    )


@dataclass(frozen=True)
class Recorded:
    revision: str
    checksum: str
    path: str
    applied_at: str


def recorded(conn: psycopg.Connection, version_table: str) -> Dict[str, Recorded]:
    """The ledger's rows by revision; empty when no revision was ever applied by us."""
    schema, table = ledger_table(version_table)
    exists = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{table}" if schema else table,)
    ).fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute(
        sql.SQL(
            "SELECT revision, checksum, path, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM {}"
        ).format(_ident(version_table))
    ).fetchall()
    return {r[0]: Recorded(*r) for r in rows}


@dataclass(frozen=True)
class ChangedRevision:
    revision: str
    path: str
    recorded: str
    current: str
    applied_at: str


def changed_revisions(
    ledger: Mapping[str, Recorded],
    applied: Sequence[str],
    checksums: Mapping[str, str],
    paths: Mapping[str, str],
) -> Tuple[ChangedRevision, ...]:
    """Applied revisions whose file differs from the one that ran (pure)."""
    out = []
    for revision in applied:
        row = ledger.get(revision)
        current = checksums.get(revision)
        if row is None or not current or row.checksum == current:
            continue
        out.append(
            ChangedRevision(
                revision, paths.get(revision, row.path), row.checksum, current, row.applied_at
            )
        )
    return tuple(out)


def changed_problem(component: str, selector: str, changed: Sequence[ChangedRevision]) -> Problem:
    return Problem(
        title="Applied migration changed since it ran",
        details=(
            f"{len(changed)} revision file(s) of {component} differ from what the database ran:",
            *(
                f"  - {c.revision} ({c.path}): ran with sha256 {c.recorded[:12]}…, the file is now {c.current[:12]}… "
                f"(applied {c.applied_at})"
                for c in changed
            ),
        ),
        actions=(
            "Never edit a released migration: revert the edit and add a new revision instead",
            "Check the file's history: git log -p -- <path>",
            f"If the edit is harmless (formatting, comments): {report.goal('db-migrate', selector, '--allow-changed')}",
        ),
        kind="changed_revision",
    )


class Ledger:
    """Collects what a run applied and reverted, and writes it in one statement afterwards.

    Writing inside each revision's transaction would add a round trip per revision (a 25% slower
    upgrade of a long history); one write after the run costs one. A run killed mid-way leaves
    its revisions unrecorded: the next run records every applied revision that has no row with
    its file's current checksum (the same adoption a database migrated by plain Alembic gets).
    """

    def __init__(
        self, version_table: str, checksums: Mapping[str, str], paths: Mapping[str, str]
    ) -> None:
        self.version_table = version_table
        self.checksums = dict(checksums)
        self.paths = dict(paths)
        self.applied: list = []
        self.reverted: list = []

    def note(self, ctx, step) -> None:
        """`on_applied` hook: runs inside each revision's transaction, so it only remembers.

        The checksum is of the file Alembic ran (the same bytes Pants hashed, unless a command
        such as db-rebase rewrote the file during this run).
        """
        if step.is_upgrade:
            self.applied.append(step.revision)
            with contextlib.suppress(OSError):  # keep Pants' checksum if the file is gone
                content = Path(step.path).read_bytes()
                self.checksums[step.revision] = hashlib.sha256(content).hexdigest()
        else:
            self.reverted.append(step.revision)

    def write(self, conn: psycopg.Connection, applied_now: Sequence[str]) -> None:
        """Record this run, and adopt every applied revision (`applied_now`) that has no row yet."""
        table = _ident(self.version_table)
        with conn.transaction():
            conn.execute(_create_sql(self.version_table))
            if self.reverted:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE revision = ANY(%s)").format(table),
                    (list(self.reverted),),
                )
            known = {r[0] for r in conn.execute(sql.SQL("SELECT revision FROM {}").format(table))}
            fresh = [r for r in self.applied if r in self.checksums]
            adopt = [
                r for r in applied_now if r not in known and r not in fresh and r in self.checksums
            ]
            rows = [(r, self.checksums[r], self.paths.get(r, "")) for r in [*fresh, *adopt]]
            if rows:
                with conn.cursor() as cur:
                    cur.executemany(
                        sql.SQL(
                            "INSERT INTO {} (revision, checksum, path) VALUES (%s, %s, %s) "
                            "ON CONFLICT (revision) DO UPDATE SET checksum = excluded.checksum, "
                            "path = excluded.path, applied_at = now()"
                        ).format(table),
                        rows,
                    )

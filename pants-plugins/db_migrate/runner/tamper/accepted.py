"""Edits of released revisions accepted as reviewed: `db-migrate --accept-changed --reason=...`.

A harmless edit of a released revision (a reformat, a comment) would otherwise be reported at
every run, and a team that answers it with `--allow-changed` in CI stops seeing every later
edit. Accepting one records the file's current checksum in the ledger, so the next edit of it is
caught again, and keeps the old checksum in a log of its own (`<version table>_accepted_edits`,
next to the checksums) with when, by whom (the OS user and the workspace's git commit) and why.
The log is created on first use, so a ledger written before it existed keeps working as it is.
"""

from __future__ import annotations

import dataclasses
import getpass
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence, Tuple

import psycopg
from psycopg import sql

from db_migrate.core.applied import (
    ACCEPTED,
    TIME_FORMAT,
    ChangedRevision,
    qualified_name,
    table_ident,
)
from db_migrate.core.report import first_line, mask

_CREATE = """CREATE TABLE IF NOT EXISTS {} (
    accepted_at timestamptz NOT NULL DEFAULT now(),
    revision varchar(255) NOT NULL,
    path text NOT NULL,
    old_checksum char(64) NOT NULL,
    new_checksum char(64) NOT NULL,
    released text NOT NULL,
    os_user text NOT NULL,
    git_commit text NOT NULL,
    in_commit boolean,
    reason text NOT NULL
)"""


@dataclass(frozen=True)
class Reviewer:
    """Who accepts: the OS user, the workspace's git commit, and whether the accepted files are
    as in that commit (None: git cannot tell)."""

    os_user: str
    git_commit: str  # "" when git cannot tell
    in_commit: Optional[bool]

    @classmethod
    def here(cls, commit: Tuple[str, Optional[bool]]) -> Reviewer:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no login name and no passwd entry
            user = "unknown"
        return cls(user, *commit)

    def describe(self) -> str:
        if not self.git_commit:
            return f"{self.os_user}, git commit unknown (not a git checkout)"
        state = {
            True: "the accepted files as committed",
            False: "the accepted files have uncommitted changes",
            None: "whether the accepted files are committed is unknown",
        }[self.in_commit]
        return f"{self.os_user}, at git commit {self.git_commit[:12]} ({state})"


@dataclass(frozen=True)
class AcceptedEdit:
    revision: str
    path: str
    old_checksum: str
    new_checksum: str
    released: str  # why the revision is released (`in release 25.03.0`, `its file is on main`)
    os_user: str
    git_commit: str
    in_commit: Optional[bool]
    reason: str
    accepted_at: str = ""

    def to_dict(self) -> Dict:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """One line: which file, from which checksum to which, when, by whom, why."""
        when = f" on {self.accepted_at}" if self.accepted_at else ""
        who = Reviewer(self.os_user, self.git_commit, self.in_commit).describe()
        return mask(
            f"{self.revision} ({self.path}): sha256 {self.old_checksum[:12]}… →"
            f" {self.new_checksum[:12]}…, accepted{when} by {who}: {self.reason}"
        )


def ensure_log(conn: psycopg.Connection, version_table: str) -> Optional[str]:
    """Create the log next to an existing ledger; None when it can be written, else why not."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL(_CREATE).format(table_ident(version_table, ACCEPTED)))
            writable = conn.execute(
                "SELECT has_table_privilege(%s, 'INSERT')",
                (qualified_name(version_table, ACCEPTED),),
            ).fetchone()[0]
    except psycopg.Error as e:
        return first_line(e)
    return None if writable else f"the role may not write {qualified_name(version_table, ACCEPTED)}"


def record(
    conn: psycopg.Connection,
    version_table: str,
    changed: Sequence[ChangedRevision],
    released: Mapping[str, str],
    who: Reviewer,
    reason: str,
) -> Tuple[AcceptedEdit, ...]:
    """In one transaction: each file's checksum becomes the ledger's, the old one is logged."""
    edits = tuple(
        AcceptedEdit(
            c.revision,
            c.path,
            c.recorded,
            c.current,
            released[c.revision],
            who.os_user,
            who.git_commit,
            who.in_commit,
            reason,
        )
        for c in changed
    )
    log, checksums = table_ident(version_table, ACCEPTED), table_ident(version_table)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            sql.SQL(
                "INSERT INTO {} (revision, path, old_checksum, new_checksum, released, os_user,"
                " git_commit, in_commit, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            ).format(log),
            [dataclasses.astuple(e)[:-1] for e in edits],
        )
        cur.executemany(
            sql.SQL(
                "UPDATE {} SET checksum = %s, path = %s WHERE revision = %s AND checksum = %s"
            ).format(checksums),
            [(e.new_checksum, e.path, e.revision, e.old_checksum) for e in edits],
        )
        when = cur.execute(sql.SQL("SELECT to_char(now(), {})").format(sql.Literal(TIME_FORMAT)))
        accepted_at = when.fetchone()[0]
    return tuple(dataclasses.replace(e, accepted_at=accepted_at) for e in edits)


def history(conn: psycopg.Connection, version_table: str) -> Tuple[AcceptedEdit, ...]:
    """Every accepted edit, oldest first (none for a ledger without the log)."""
    if not conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (qualified_name(version_table, ACCEPTED),)
    ).fetchone()[0]:
        return ()
    rows = conn.execute(
        sql.SQL(
            "SELECT revision, path, old_checksum, new_checksum, released, os_user, git_commit,"
            " in_commit, reason, to_char(accepted_at, {}) FROM {} ORDER BY accepted_at, revision"
        ).format(sql.Literal(TIME_FORMAT), table_ident(version_table, ACCEPTED))
    ).fetchall()
    return tuple(AcceptedEdit(*row) for row in rows)

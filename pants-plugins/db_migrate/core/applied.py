"""What a database says it has applied: Alembic's version table, the checksum ledger beside it,
and the migration lock's key, read through any psycopg connection.

Shared by the runner and pantsd, which answers `db-status` and a no-op `db-migrate` itself when
the answer is plain (`goals/in_pantsd.py`): one reading of the same tables on both sides. The
rest of tamper detection (writing the ledger, judging edits) is the runner's
(`runner/tamper/ledger.py`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterable, Mapping, Optional, Sequence, Set, Tuple

from psycopg import sql

from db_migrate.core.revision_file import Revision
from db_migrate.core.revision_order import base_to_head_order

if TYPE_CHECKING:
    from psycopg import Connection


def split_table(version_table: str) -> Tuple[Optional[str], str]:
    schema, _, table = version_table.rpartition(".")
    return (schema or None), table


def current_heads(conn: Connection, version_table: str) -> Tuple[str, ...]:
    """The revisions in the version table, sorted; empty when the table does not exist yet."""
    schema, table = split_table(version_table)
    exists = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        (f"{schema}.{table}" if schema else table,),
    ).fetchone()[0]
    if not exists:
        return ()
    ident = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    rows = conn.execute(sql.SQL("SELECT version_num FROM {}").format(ident)).fetchall()
    return tuple(sorted(row[0] for row in rows))


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


def recorded(conn: Connection, version_table: str) -> Optional[Dict[str, Recorded]]:
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


def lock_key(version_table: str) -> int:
    """The migration lock's advisory key: a stable signed 64-bit number per version table (one
    history per database)."""
    digest = hashlib.sha256(f"pants-db-migrate:{version_table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def plainly_at(
    direction: str,
    target: str,
    current: Sequence[str],
    revisions: Sequence[Revision],
    heads: Sequence[str],
) -> bool:
    """Whether a database at `current` already is where a run to `target` leaves it, known
    without Alembic: every row a revision of these scripts, and either an upgrade to head with
    the heads exactly, or a downgrade to base with nothing applied."""
    known = {r.revision for r in revisions}
    if not all(h in known for h in current):
        return False
    if direction == "upgrade" and target in ("head", "heads"):
        return set(current) == set(heads)
    return direction == "downgrade" and target == "base" and not current

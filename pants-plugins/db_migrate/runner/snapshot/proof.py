"""Proof that a snapshot is the replay: the database a replay left, against the load of its own
snapshot, compared object by object and row by row.

The comparison is between one replayed database and the load of the snapshot taken of it, so the
values its migrations took from volatile functions (`now()` in a seed row, `random()`,
`gen_random_uuid()`) are the same on both sides and everything is compared exactly. Two separate
replays differ in exactly those values; that is why the proof never compares two replays.
Compared: the catalog snapshot (`runner/verify/schema.py`: schemas, extensions, enums with their
label order, functions with their bodies, sequences, tables, columns with their defaults,
constraints, indexes with their predicates, triggers), every table's rows (the version table's
included), every sequence's position, and every comment. Not compared: owners and privileges
(the snapshot leaves them to the loading role on purpose) and the checksum ledger (written for
the loading checkout).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Tuple

import psycopg
from psycopg import sql

from db_migrate.core.applied import LEDGER_SCHEMA
from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.report import Problem, ProblemError
from db_migrate.runner.snapshot import capture, load, toc
from db_migrate.runner.verify import schema

LOADED = "verify_snapshot"  # the database the snapshot is loaded into, next to the replayed one

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", LEDGER_SCHEMA)

_TABLES = (
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_temp%%'"
    " ORDER BY 1, 2"
)
_SEQUENCES = (
    # last_value is NULL until the sequence is first used (or after setval(..., false)).
    "SELECT schemaname, sequencename, last_value FROM pg_sequences"
    " WHERE schemaname <> ALL(%s) ORDER BY 1, 2"
)
# Every comment, by the object's description (stable across databases, unlike its oid).
_COMMENTS = (
    "SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description"
    " FROM pg_description d WHERE d.objoid >= 16384 ORDER BY 1"
)


def _rows_of(conn: psycopg.Connection, table: Tuple[str, str]) -> Tuple[int, str]:
    """(count, md5 of every row's text, sorted): equal tables, equal pairs."""
    query = sql.SQL(
        "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"
        " FROM {} t"
    ).format(sql.Identifier(*table))
    count, digest = conn.execute(query).fetchone()
    return int(count), digest


def contents(conn: psycopg.Connection) -> Dict[str, object]:
    """What the catalog snapshot does not hold: rows, sequence positions, comments."""
    tables = [tuple(r) for r in conn.execute(_TABLES, (list(SYSTEM_SCHEMAS),)).fetchall()]
    return {
        "rows": {f"{s}.{t}": _rows_of(conn, (s, t)) for s, t in tables},
        "sequences": {
            f"{r[0]}.{r[1]}": r[2]
            for r in conn.execute(_SEQUENCES, (list(SYSTEM_SCHEMAS),)).fetchall()
        },
        "comments": dict(conn.execute(_COMMENTS).fetchall()),
    }


def _differences(kind: str, replayed: dict, loaded: dict, show: Callable) -> List[str]:
    lines = []
    for name in sorted(set(replayed) | set(loaded)):
        if replayed.get(name) != loaded.get(name):
            lines.append(f"{kind} {name}: {show(replayed.get(name))} → {show(loaded.get(name))}")
    return lines


def _rows_text(value) -> str:
    return "missing" if value is None else f"{value[0]} row(s), md5 {value[1][:12] or '-'}"


def _position_text(value) -> str:
    return "missing or never used" if value is None else f"last_value {value}"


def _comment_text(value) -> str:
    return "none" if value is None else repr(value)


def compare(
    replayed: psycopg.Connection, loaded: psycopg.Connection, version_table: str
) -> List[str]:
    """Every difference of the loaded database from the replayed one, one line each (none:
    equal)."""
    query = lambda conn: lambda text: conn.execute(text).fetchall()  # noqa: E731
    found = schema.diff(
        schema.snapshot(query(replayed), version_table),
        schema.snapshot(query(loaded), version_table),
    ).render(
        extra_title="Only in the loaded snapshot:",
        missing_title="Lost by the snapshot:",
        changed_title="Changed (replay → snapshot):",
    )
    ours, theirs = contents(replayed), contents(loaded)
    found += _differences("rows of", ours["rows"], theirs["rows"], _rows_text)
    found += _differences("sequence", ours["sequences"], theirs["sequences"], _position_text)
    found += _differences("comment on", ours["comments"], theirs["comments"], _comment_text)
    return found


def summary(conn: psycopg.Connection) -> str:
    """`12 tables, 40 rows, 3 sequences, 5 comments`: what the proof compared."""
    seen = contents(conn)
    rows = sum(count for count, _ in seen["rows"].values())
    return (
        f"{len(seen['rows'])} tables, {rows} rows, {len(seen['sequences'])} sequences,"
        f" {len(seen['comments'])} comments"
    )


def prove(server, replayed: str, version_table: str, component: str) -> str:
    """Snapshot the database `replayed` on the throwaway `server`, load it into a new database
    there, and compare; the summary of what was compared, or a `ProblemError` naming each
    difference. The dump and its listing stay in the sandbox (the working directory), never an
    output."""
    path = Path("__db_snapshot_proof__.dump").absolute()
    try:
        capture.dump(server.conninfo(replayed), path)
        server.create_database(LOADED)
        url = DatabaseUrl.parse(server.url(LOADED))
        with server.connect(replayed) as ours, server.connect(LOADED) as theirs:
            load.restore(url, toc.contents(path), load.lock_capacity(theirs))
            found = compare(ours, theirs, version_table)
            compared = summary(ours)
    finally:
        for left in (path, toc.listing_of(path)):
            left.unlink(missing_ok=True)
        server.drop_database(LOADED, force=True)
    if found:
        raise ProblemError(snapshot_differs(component, found))
    return compared


def snapshot_differs(component: str, differences: List[str]) -> Problem:
    shown = differences[:20]
    more = [f"  ... and {len(differences) - 20} more"] if len(differences) > 20 else []
    return Problem(
        title="The snapshot at head differs from the replay",
        details=(
            f"{component}: the replayed database at head, snapshotted and loaded into a new"
            " database, does not come back the same:",
            *(line if line.startswith("  ") else f"  {line}" for line in shown),
            *more,
            "db-migrate --from-snapshot would give a database production never had.",
        ),
        actions=(
            "This is a bug in pants-db-migrate's snapshot (pg_dump/pg_restore flags): report it,"
            " with this list",
            "Until it is fixed, build fresh databases by replay: pants db-migrate (without"
            " --from-snapshot)",
        ),
        kind="snapshot_differs",
    )

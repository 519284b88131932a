"""What the database says it has applied: the rows of Alembic's version table."""

from __future__ import annotations

from typing import Optional, Tuple

import psycopg
from psycopg import sql


def split_table(version_table: str) -> Tuple[Optional[str], str]:
    schema, _, table = version_table.rpartition(".")
    return (schema or None), table


def current_heads(conn: psycopg.Connection, version_table: str) -> Tuple[str, ...]:
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

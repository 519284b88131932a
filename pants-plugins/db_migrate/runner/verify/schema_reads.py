"""How a round trip reads the schema: incrementally (event triggers log what each step's DDL
touched; only that is read again) or in full from the catalog.

Every read after a step happens on the migration's own connection, inside the step's
transaction, so it is right whether or not env.py commits per migration. Incremental reads are an
optimisation of ours: whenever they disagree with a full read, `TrackingMissed` says so and the
caller verifies again with full reads, rather than blaming the user's revision.
"""

from __future__ import annotations

from typing import Callable

from db_migrate.runner.postgres.errors import db_error_text
from db_migrate.runner.verify import schema
from db_migrate.runner.verify.schema import Delta, Schema


class TrackingMissed(Exception):
    """The step-by-step schema disagrees with the catalog: verify again with full snapshots."""

    def __init__(self, difference: schema.SchemaDiff) -> None:
        super().__init__("change tracking missed a change")
        self.difference = difference


def _rows(result) -> list:
    return result.fetchall() if getattr(result, "returns_rows", True) else []


def _psycopg_rows(cursor) -> list:
    return cursor.fetchall() if cursor.description else []


def query_on(connection) -> schema.Query:
    """`SQL -> rows` on a SQLAlchemy connection (the migration's, inside its transaction)."""
    return lambda sql: _rows(connection.exec_driver_sql(sql))


class Snapshots:
    """The schema of one throwaway database, as a round trip needs it."""

    def __init__(
        self,
        version_table: str,
        connect: Callable,  # () -> an autocommit psycopg connection to the database
        say: Callable[[str], None],
        *,
        incremental: bool = True,
        check_every_step: bool = False,  # compare with a full read after every step (tests)
    ) -> None:
        self.version_table = version_table
        self._connect = connect
        self._say = say
        self.incremental = incremental
        self.check_every_step = check_every_step
        self.tracker = schema.Tracker(version_table)

    def now(self) -> Schema:
        """A full read of the catalog on a connection of our own (what is committed)."""
        with self._connect() as conn:
            return schema.snapshot(lambda sql: conn.execute(sql).fetchall(), self.version_table)

    def start(self) -> None:
        """Event triggers on the (throwaway, superuser) database; full reads when refused."""
        if not self.incremental:
            return
        import psycopg

        try:
            with self._connect() as conn:
                self.tracker.install(conn.execute)
                self.tracker.reset(lambda sql: _psycopg_rows(conn.execute(sql)))
        except psycopg.Error as e:
            self._say(
                f"full snapshots after every step (change tracking unavailable: {db_error_text(e)})"
            )
            self.incremental = False

    def stop(self) -> None:
        if self.incremental:
            with self._connect() as conn:
                schema.Tracker.uninstall(conn.execute)

    def after_step(self, connection) -> Schema:
        """The schema right after a step, read inside its transaction."""
        query = query_on(connection)
        if not self.incremental:
            return schema.snapshot(query, self.version_table)
        tracked = self.tracker.refresh(query)
        if self.check_every_step:
            self.agree(tracked, schema.snapshot(query, self.version_table))
        return tracked

    def change(self, before: Schema, after: Schema) -> Delta:
        """What the step that led from `before` to `after` changed."""
        if not self.incremental:
            return schema.delta(before, after)
        change = dict(self.tracker.last_change)
        if self.check_every_step and change != schema.delta(before, after):
            raise TrackingMissed(schema.diff(before, after))
        return change

    def confirm(self, tracked: Schema, connection) -> None:
        """Before blaming a revision for a difference: is the tracked schema the catalog's?"""
        if self.incremental:
            self.agree(tracked, schema.snapshot(query_on(connection), self.version_table))

    def confirm_now(self, tracked: Schema) -> None:
        """At the end of a phase: the tracked schema must be what is committed."""
        if self.incremental:
            self.agree(tracked, self.now())

    @staticmethod
    def agree(tracked: Schema, full: Schema) -> None:
        if tracked.objects != full.objects:
            raise TrackingMissed(schema.diff(full, tracked))


# Every table shaped like Alembic's version table (one column, `version_num`), in any user schema:
# the component's own and other components' in a database they share. Names as the snapshot's.
_VERSION_TABLES_SQL = """
SELECT CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
  AND (SELECT array_agg(a.attname::text) FROM pg_attribute a
       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) = ARRAY['version_num']
"""


def live_catalog(conn, version_table: str) -> dict:
    """The catalog of a user's database for `db-status --drift`, in one read-only transaction:
    `objects` (`[kind, parent, name, description]` rows, as the expected side) and
    `version_tables` (name -> recorded revisions). Nothing is locked beyond what a plain SELECT
    of the catalog takes, and the transaction cannot write."""
    from psycopg import sql

    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        rows = conn.execute(schema.snapshot_sql(version_table)).fetchall()
        tables = {}
        for (name,) in conn.execute(_VERSION_TABLES_SQL).fetchall():
            ident = sql.Identifier(*name.split(".", 1))
            found = conn.execute(sql.SQL("SELECT version_num FROM {}").format(ident)).fetchall()
            tables[name] = sorted(r[0] for r in found)
    return {"objects": rows_of(schema.from_rows(rows)), "version_tables": tables}


def rows_of(found: Schema) -> list:
    """A schema as the JSON rows both sides of drift detection hand the goal, in a stable order."""
    return sorted([k.kind, k.parent, k.name, v] for k, v in found.objects.items())

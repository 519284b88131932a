"""The component's database as a migration holds it: under the migration lock, watched for
faults of the server and the network (`runner/faults/`), and handed to env.py with the
component's timeouts."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator, Mapping

from db_migrate.core.alembic_ini import AlembicIni
from db_migrate.core.contract import MigrateOptions, RunnerPlan
from db_migrate.core.report import ProblemError
from db_migrate.runner.migration.move import retry_command
from db_migrate.runner.postgres import lock
from db_migrate.runner.postgres.connection import ComponentDatabase, open_component_database


@contextlib.contextmanager
def locked_database(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str], wait: float
) -> Iterator[ComponentDatabase]:
    """The component's database with the migration lock held until the block ends (waiting
    `wait` seconds for it): one lock for a whole operation (a rebase's downgrade, edit and
    re-upgrade; autogenerate's compare). A fault of the server or the network while it is held
    is told as one (`runner/faults/`), with the database's state read back."""
    db = open_component_database(plan, ini, environ)
    with db.connection as conn, db.watched():
        try:
            lock.acquire(conn, plan.component, ini.version_table, wait)
            yield db
        except ProblemError:
            conn.close()  # a connection the server dropped cannot be rolled back: just closed
            raise
        except Exception as e:  # noqa: BLE001 - a fault of the server is told, the rest re-raised
            from db_migrate.runner.faults.scene import scene

            told = diagnosed(ini, db, e, scene(plan, db, continue_command(plan)))
            conn.close()
            if told is None:
                raise
            raise ProblemError(told.problem) from None


def continue_command(plan: RunnerPlan) -> str:
    """The command that goes on after a fault: db-migrate's own; the other commands that hold
    the lock (create, rebase, restore) are run again as the user ran them, which we do not know."""
    return retry_command(plan) if isinstance(plan.options, MigrateOptions) else ""


def diagnosed(ini: AlembicIni, db: ComponentDatabase, error: BaseException, scene):
    """`error` as a fault of the server or the network, the state read back (else None)."""
    from db_migrate.runner.faults.diagnose import diagnose

    return diagnose(error, scene, db.connection, db.reconnect, ini.version_table, db.watch)


def hand_over(plan: RunnerPlan, ini: AlembicIni, db: ComponentDatabase):
    """What env.py is handed: our database, with the component's timeouts, watched like ours."""
    from db_migrate.runner.alembic_glue.env_watch import HandOver

    os.environ.update(db.alembic_environ(plan))  # for an env.py that connects itself
    return HandOver(
        source=db.source,
        options=db.migration_options(plan),
        component=plan.component,
        selector=plan.selector,
        config=plan.config,
        version_table=ini.version_table,
        connect_timeout=db.connect_timeout,
        network_timeout=db.network_timeout,
        watch=db.watch,
    )

"""The component's database as a migration holds it: under the migration lock, and handed to
env.py with the component's timeouts."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator, Mapping

from db_migrate.core.alembic_ini import AlembicIni
from db_migrate.core.contract import RunnerPlan
from db_migrate.runner.postgres import lock
from db_migrate.runner.postgres.connection import ComponentDatabase, open_component_database


@contextlib.contextmanager
def locked_database(
    plan: RunnerPlan, ini: AlembicIni, environ: Mapping[str, str], wait: float
) -> Iterator[ComponentDatabase]:
    """The component's database with the migration lock held until the block ends (waiting
    `wait` seconds for it): one lock for a whole operation (a rebase's downgrade, edit and
    re-upgrade; autogenerate's compare)."""
    db = open_component_database(plan, ini, environ)
    with db.connection as conn:
        lock.acquire(conn, plan.component, ini.version_table, wait)
        yield db


def hand_over(plan: RunnerPlan, ini: AlembicIni, db: ComponentDatabase):
    """What env.py is handed: our database, with the component's timeouts."""
    from db_migrate.runner.alembic_glue.env_watch import HandOver

    os.environ.update(db.alembic_environ(plan))  # for an env.py that connects itself
    return HandOver(
        source=db.source,
        options=db.migration_options(plan),
        component=plan.component,
        selector=plan.selector,
        config=plan.config,
        version_table=ini.version_table,
        connect_timeout=plan.shared.connect_timeout,
    )

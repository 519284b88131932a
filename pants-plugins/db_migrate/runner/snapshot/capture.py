"""The snapshot of a component at a revision: the database a replay from base leaves, as one file.

Replayed on the throwaway PostgreSQL that `commands/snapshot.py` starts in its sandbox, through
the component's own env.py (as db-verify does), then written with `pg_dump --format=custom`: one
file (a Pants output file, cached locally and remotely), its table of contents readable without
loading it (`pg_restore --list`: the schemas it will fill, the entries the loader selects; written
beside it as a second output, so that no load lists it again), and its rows as multi-row INSERT
statements rather than COPY, so that the loader can send its SQL in a few large messages
(`batches.py`). Left out: what a role may not restore on a user's server or what names something
outside the database (owners, privileges, tablespaces, publications, subscriptions, security
labels), and the planner's statistics (ANALYZE rebuilds them). The checksum ledger is no part of it: the loader
writes it for the files of the checkout that loads it, as a replay does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable, Sequence

from db_migrate.core.applied import LEDGER_SCHEMA
from db_migrate.core.report import Problem, ProblemError
from db_migrate.runner.postgres.server import pg_bin
from db_migrate.runner.snapshot import toc

DUMP_FLAGS = (
    "--format=custom",
    "--no-owner",
    "--no-privileges",
    "--no-tablespaces",
    "--no-publications",
    "--no-subscriptions",
    "--no-security-labels",
    "--no-statistics",
    "--rows-per-insert=1000",
    f"--exclude-schema={LEDGER_SCHEMA}",
)


def replay(plan, session, targets: Sequence[str], say: Callable[[str], None]) -> int:
    """Upgrade the empty database to `targets` (each a full revision id); the revisions applied."""
    from db_migrate.runner.alembic_glue.steps import DoneStep, StepFailed

    applied = []

    def on_end(done: DoneStep) -> None:
        applied.append(done.step.revision)

    try:
        for target in targets:
            session.run("upgrade", target, lambda step: None, on_end)
    except StepFailed as failure:
        raise ProblemError(replay_failed(plan, failure)) from None
    say(f"replayed {len(applied)} revision{'s' if len(applied) != 1 else ''} from base")
    return len(applied)


def replay_failed(plan, failure) -> Problem:
    """A revision that fails on an empty database fails the replay too: nothing to snapshot."""
    from db_migrate.runner.postgres.errors import db_error_text

    path = next((r.path for r in plan.revisions if r.revision == failure.step.revision), "")
    return Problem(
        title=f"Upgrade of {failure.step.revision} failed while building the snapshot",
        details=(
            f"{plan.component}: replaying from base on a throwaway PostgreSQL, revision"
            f" {failure.step.revision} ({path or 'its file'}) raised an error",
            f"Database said: {db_error_text(failure.error)}",
            "No snapshot was written and your database was not touched.",
        ),
        actions=(
            f"Fix upgrade() in {path or 'the revision file'}",
            f"Check the whole history on a throwaway database: pants db-verify {plan.selector}",
            f"Or replay instead of loading a snapshot: pants db-migrate {plan.selector}",
        ),
        kind="snapshot_replay_failed",
    )


def dump(conninfo: str, into: Path) -> None:
    """pg_dump the whole database into `into`, listed back to prove it reads; the listing is
    kept beside it (`toc.contents` reads it there)."""
    result = subprocess.run(
        [str(pg_bin("pg_dump")), *DUMP_FLAGS, f"--file={into}", f"--dbname={conninfo}"],
        capture_output=True,
        text=True,
    )
    if result.returncode == 0:
        result = subprocess.run(
            [str(pg_bin("pg_restore")), "--list", str(into)], capture_output=True, text=True
        )
    if result.returncode == 0:
        toc.listing_of(into).write_text(result.stdout)
        return
    last = (result.stderr or "").strip().splitlines()[-1:] or ["no output"]
    raise ProblemError(
        Problem(
            title="Cannot write the snapshot",
            details=(f"{result.args[0].rsplit('/', 1)[-1]} failed: {last[0]}",),
            actions=("This is a bug in pants-db-migrate, not in your migrations: report it",),
            kind="snapshot_failed",
        )
    )

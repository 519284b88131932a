"""A snapshot's SQL in a few large messages, not one round trip per statement.

`pg_restore --dbname` sends each statement of a dump on its own and waits for the answer: at
5,000 revisions that is thousands of round trips, each a wake-up of the server and of pg_restore,
or a network round trip to a remote server. Here pg_restore only writes the SQL of a run of
entries (`--use-list`, on the client, no server), and the loader sends it as one simple-query
message. The text is pg_restore's own, so the database is what pg_restore makes of it; db-verify's
proof loads snapshots this way too. Runs follow the table of contents, which is already the order
pg_restore's passes restore in: pg_dump sorts event triggers and materialized views' data last,
and the dump holds no privileges (pg_restore's other pass). The rows are INSERT statements (`capture.DUMP_FLAGS`):
COPY's data cannot travel inside a message of statements.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

from db_migrate.runner.postgres.server import pg_bin
from db_migrate.runner.snapshot.toc import Entry

# Entries one message holds: the server parses a whole message before it runs any of it.
PER_MESSAGE = 2000


class RenderFailed(Exception):
    """pg_restore could not write the SQL of some entries (what it said)."""


def transactions(entries: Sequence[Entry], budget: int) -> List[Tuple[Entry, ...]]:
    """Consecutive runs of `entries`, each holding at most `budget` relation locks; one run when
    they all fit. The order is the dump's, so each run finds what it refers to already there."""
    runs: List[Tuple[Entry, ...]] = []
    current: List[Entry] = []
    locks = 0
    for entry in entries:
        if current and locks + entry.locks > budget:
            runs.append(tuple(current))
            current, locks = [], 0
        current.append(entry)
        locks += entry.locks
    if current or not runs:
        runs.append(tuple(current))
    return runs


class Scripts:
    """Writes runs of entries as SQL messages, rendering the next while the server runs one."""

    def __init__(self, snapshot: Path) -> None:
        self.snapshot = snapshot
        # pg_restore frames its SQL in psql's `\restrict KEY` lines, which are not SQL: with a
        # key of ours, exactly those two lines can be told from anything the dump holds.
        key = secrets.token_hex(16)
        self._key_flag = f"--restrict-key={key}"
        self._frame = {f"\\{word} {key}".encode() for word in ("restrict", "unrestrict")}
        self._dir = tempfile.TemporaryDirectory(prefix="dbm-snapshot-")
        self._pool = ThreadPoolExecutor(max_workers=2)

    def __enter__(self) -> Scripts:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._dir.cleanup()

    def of(self, run: Sequence[Entry]) -> Iterator[bytes]:
        """The run's SQL, message by message, in order."""
        chunks = [run[i : i + PER_MESSAGE] for i in range(0, len(run), PER_MESSAGE)]
        return self._pool.map(self._render, chunks)

    def _render(self, chunk: Sequence[Entry]) -> bytes:
        handle, listed = tempfile.mkstemp(suffix=".list", dir=self._dir.name)
        with os.fdopen(handle, "w") as out:
            out.write("".join(f"{entry.line}\n" for entry in chunk))
        rendered = subprocess.run(
            [
                str(pg_bin("pg_restore")),
                "--no-owner",
                "--no-privileges",
                self._key_flag,
                f"--use-list={listed}",
                "--file=-",
                str(self.snapshot),
            ],
            capture_output=True,
        )
        if rendered.returncode != 0:
            raise RenderFailed(rendered.stderr.decode(errors="replace"))
        return b"\n".join(line for line in rendered.stdout.split(b"\n") if line not in self._frame)

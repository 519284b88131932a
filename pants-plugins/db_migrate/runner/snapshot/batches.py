"""A snapshot's SQL in a few large messages, not one round trip per statement.

`pg_restore --dbname` sends each statement of a dump on its own and waits for the answer: at
5,000 revisions that is thousands of round trips, each a wake-up of the server and of pg_restore,
or a network round trip to a remote server. Here pg_restore only writes the SQL of a run of
entries (`--use-list`, on the client, no server), and the loader sends it as one simple-query
message. The text is pg_restore's own, so the database is what pg_restore makes of it; db-verify's
proof loads snapshots this way too. Runs follow the table of contents, which is already the order
pg_restore's passes restore in: pg_dump sorts event triggers and materialized views' data last,
and the dump holds no privileges (pg_restore's other pass). The rows are INSERT statements
(`capture.DUMP_FLAGS`): COPY's data cannot travel inside a message of statements.

A message holds at most `PER_MESSAGE` entries and, where entries allow, `MESSAGE_BYTES` of SQL
(large seed rows). One entry is never cut: a table's rows beyond what PostgreSQL takes in a
message (1 GB) are refused before anything is sent (`TooLarge`); a replay loads those.
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
# Bytes of SQL one message holds when it can: a message's parse trees take several times its
# text on the server, so large seed rows go in several smaller messages.
MESSAGE_BYTES = 32 * 1024 * 1024
# What PostgreSQL takes in one message at all (1 GB, less the message's own framing).
SERVER_MESSAGE_LIMIT = 0x3FFFFFFF - 16


class RenderFailed(Exception):
    """pg_restore could not write the SQL of some entries (what it said)."""


class TooLarge(Exception):
    """One entry's SQL (a table's rows, say) is more than the server takes in one message."""

    def __init__(self, entry: Entry, size: int) -> None:
        super().__init__(entry.line)
        self.entry = entry
        self.size = size


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
        self._pool = ThreadPoolExecutor(max_workers=1)

    def __enter__(self) -> Scripts:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._dir.cleanup()

    def of(self, run: Sequence[Entry]) -> Iterator[bytes]:
        """The run's SQL, message by message, in order, the next one rendered while the server
        runs this one."""
        chunks = [run[i : i + PER_MESSAGE] for i in range(0, len(run), PER_MESSAGE)]
        ahead = self._pool.submit(self._render, chunks[0]) if chunks else None
        for i, chunk in enumerate(chunks):
            rendered = ahead.result()
            if i + 1 < len(chunks):
                ahead = self._pool.submit(self._render, chunks[i + 1])
            yield from self._within_budget(chunk, rendered)

    def _within_budget(self, chunk: Sequence[Entry], rendered: Path) -> Iterator[bytes]:
        """The chunk's SQL as one message when it is small enough, else its halves' (rendered
        again); one entry alone goes as it is, unless the server could not take it."""
        size = rendered.stat().st_size
        if size <= min(MESSAGE_BYTES, SERVER_MESSAGE_LIMIT) or len(chunk) == 1:
            if size > SERVER_MESSAGE_LIMIT:
                raise TooLarge(chunk[0], size)
            yield self._read(rendered)
            return
        rendered.unlink()
        half = len(chunk) // 2
        for part in (chunk[:half], chunk[half:]):
            yield from self._within_budget(part, self._render(part))

    def _render(self, chunk: Sequence[Entry]) -> Path:
        """The chunk's SQL in a file of the scratch folder (a file: its size decides before it
        is read)."""
        handle, listed = tempfile.mkstemp(suffix=".list", dir=self._dir.name)
        with os.fdopen(handle, "w") as out:
            out.write("".join(f"{entry.line}\n" for entry in chunk))
        sql = Path(listed).with_suffix(".sql")
        rendered = subprocess.run(
            [
                str(pg_bin("pg_restore")),
                "--no-owner",
                "--no-privileges",
                self._key_flag,
                f"--use-list={listed}",
                f"--file={sql}",
                str(self.snapshot),
            ],
            capture_output=True,
        )
        if rendered.returncode != 0:
            raise RenderFailed(rendered.stderr.decode(errors="replace"))
        return sql

    def _read(self, rendered: Path) -> bytes:
        """The SQL without pg_restore's two frame lines (our random key: nothing else holds it)."""
        text = rendered.read_bytes()
        rendered.unlink()
        for frame in self._frame:
            text = text.replace(frame + b"\n", b"").replace(frame, b"")
        return text

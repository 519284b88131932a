"""A snapshot's table of contents (`pg_restore --list`), read without loading it.

Written beside the snapshot when it is captured (`capture.dump`, `contract.toc_file`): listing a
5,000-revision dump again costs a load 30-90 ms.

Each entry is one object of the dump (a table, its data, an index, a comment...) in restore
order. The loader needs three things from it: the schemas it creates tables in (the emptiness
check), about how many relation locks a load holds (the server's lock table bounds one
transaction), and the entries themselves, whose list lines `pg_restore --use-list` selects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import FrozenSet, Tuple

from db_migrate.core.contract import toc_file
from db_migrate.core.report import Problem, ProblemError

# "218; 1259 16390 TABLE public users postgres". Kinds of several words first, so
# "TABLE DATA public users" is never read as a TABLE in schema "DATA".
_KINDS = (
    "MATERIALIZED VIEW DATA",
    "MATERIALIZED VIEW",
    "FK CONSTRAINT",
    "TABLE DATA",
    "TABLE ATTACH",
    "INDEX ATTACH",
    "SEQUENCE SET",
    "SEQUENCE OWNED BY",
    "TABLE",
    "SEQUENCE",
    "INDEX",
    "CONSTRAINT",
    "VIEW",
)
_ENTRY = re.compile(
    r"^\d+;\s+\d+\s+\d+\s+(?P<kind>" + "|".join(_KINDS) + r")\s+(?P<schema>\S+)\s+\S+"
)
# Entries whose creation holds a relation lock until the transaction ends.
_LOCKING = frozenset(
    ("TABLE", "SEQUENCE", "INDEX", "CONSTRAINT", "FK CONSTRAINT", "VIEW", "MATERIALIZED VIEW")
)


@dataclass(frozen=True)
class Entry:
    line: str  # as `pg_restore --list` prints it, which is what `--use-list` selects
    locks: bool  # its creation holds a relation lock until the transaction ends

    @property
    def described(self) -> str:
        """What it is, for a person: "TABLE DATA public seed" (its id, oids and owner left out)."""
        return " ".join(self.line.split()[3:-1])


@dataclass(frozen=True)
class Contents:
    snapshot: Path
    schemas: FrozenSet[str]  # the schemas it creates tables in
    entries: Tuple[Entry, ...]  # every object, in restore order

    @property
    def locks(self) -> int:
        """About how many relation locks one transaction loading all of it holds."""
        return sum(entry.locks for entry in self.entries)


def listing_of(snapshot: Path) -> Path:
    """Where the snapshot's listing lies: beside it, named by the contract the rules share."""
    return Path(toc_file(str(snapshot)))


def contents(snapshot: Path) -> Contents:
    """The snapshot's table of contents, from the listing captured beside it."""
    listed = listing_of(snapshot)
    try:
        listing = listed.read_text()
    except OSError as e:
        said = f"its table of contents {listed.name}: {e.strerror}"
        raise ProblemError(unreadable(snapshot, said)) from None
    lines = [line for line in listing.splitlines() if line and not line.startswith(";")]
    kinds = [(line, _ENTRY.match(line)) for line in lines]
    return Contents(
        snapshot=snapshot,
        schemas=frozenset(m.group("schema") for _, m in kinds if m and m.group("kind") == "TABLE"),
        entries=tuple(Entry(line, bool(m and m.group("kind") in _LOCKING)) for line, m in kinds),
    )


def unreadable(snapshot: Path, said: str) -> Problem:
    return Problem(
        title="Cannot read the snapshot",
        details=(f"{snapshot.name}: {last_line(said)}",),
        actions=(
            "This is a bug in pants-db-migrate: report it",
            "Replay instead: pants db-migrate <component> (without --from-snapshot)",
        ),
        kind="snapshot_unreadable",
    )


def last_line(text: str) -> str:
    """The last thing a tool said (its error comes last), or that it said nothing."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"

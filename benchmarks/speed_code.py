"""The price of each speed-only piece of code: what it saves of the `./pants` command it serves.

Some code exists only for speed, beside a library that does the same job (issue 23, point 4). A
piece stays only where it saves at least 10% of the case it serves, measured through `./pants`.
In one run, on a scratch copy of the repo:

- the cases, through `./pants` with pantsd warm: `db-status` on the manager; on a generated
  history of `--size` revisions (a fork and a merge every 40) at head, a no-op `db-migrate`, and
  `db-status` and `lint --only=alembic-history` after an edit of one revision's docstring;
- each piece against what the run would do without it, on that case's input, in a fresh
  interpreter of the repo's environment (medians of alternating runs):
  - `core/plain_url.py` against SQLAlchemy's `make_url`, imports included (what
    `db-status`'s runner would import otherwise; psycopg is imported first in both, as there);
  - `revision_order.base_to_head_order` against Alembic's `iterate_revisions` from the heads
    to base (the tamper check's `applied.ancestor_counts`, run by every `db-migrate`);
  - pantsd's memos after an edit: `RevisionFileMemo` (every other file's header read again),
    `RevisionMaps` (Alembic's map of the unchanged shape built again), `CompiledFiles` (the rest
    of the edited file's compile group compiled again). They also spare reading those files out
    of the engine, not counted: the figures are lower bounds.

Pants runs the plugin's pieces on CPython 3.9; they are timed here in the repo's 3.11, a
stand-in that says which side of 10% a piece is on, not its exact ms.

Pieces priced below 10% were removed (the header reader's regex fast path and the memo of each
revision file's imports): docs/benchmarks.md, `speed_code`, keeps their last figures.

    benchmarks/run speed_code [--size 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e.pants_repo import PantsRepo
from histories import clean_env, interleaved, median, own_dev_port, write_branchy_history

from db_migrate.runner.postgres.server import throwaway_server

REPO = Path(__file__).resolve().parent.parent
MANAGER = "src/ai/backend/manager/models/alembic"
SPEC = "src/ai/backend/manager::"
KEEP_AT = 0.10

READ_URL = """
import sys, time
import psycopg
t0 = time.perf_counter()
url = "postgresql+psycopg://postgres:secret@127.0.0.1:8101/backend"
if sys.argv[2] == "ours":
    from db_migrate.core.plain_url import plain_url as read
else:
    from sqlalchemy.engine import make_url as read
read(url)
print(time.perf_counter() - t0)
"""

ORDERS = """
import os, sys, time
from alembic.script.revision import Revision, RevisionMap
from db_migrate.core import revision_file, revision_order
paths = sorted(os.path.join(sys.argv[1], n) for n in os.listdir(sys.argv[1]) if n.endswith(".py"))
revisions = [revision_file.read_revision_header(p, open(p, "rb").read()) for p in paths]
which = sys.argv[2]


def alembic_map():
    return RevisionMap(lambda: [
        Revision(r.revision, r.down_revisions or None, dependencies=r.depends_on or None)
        for r in revisions
    ])


t0 = time.perf_counter()
if which == "order-ours":
    revision_order.base_to_head_order(revisions)
else:
    rmap = alembic_map()
    list(rmap.iterate_revisions(rmap.heads, "base"))[::-1]
print(time.perf_counter() - t0)
"""


# What each of pantsd's memos spares a run after one file of the history changed: the headers
# of every other file read again, Alembic's map of an unchanged shape built
# again, every other file of the edited one's compile group (about 1,000) compiled again. The
# memos also spare reading those files' contents out of the engine, which is not counted here.
MEMOS = """
import os, sys, time
from alembic.script.revision import Revision, RevisionMap
from db_migrate.core import revision_file
from db_migrate.core.history import graph_shape
paths = sorted(os.path.join(sys.argv[1], n) for n in os.listdir(sys.argv[1]) if n.endswith(".py"))
sources = [open(p, "rb").read() for p in paths]
which, every = sys.argv[2], sys.argv[3] == "all"
t0 = time.perf_counter()
if which == "headers":
    for path, source in zip(paths, sources if every else sources[:1]):
        revision_file.read_revision_header(path, source)
elif which == "map":
    revisions = [revision_file.read_revision_header(p, s) for p, s in zip(paths, sources)]
    t0 = time.perf_counter()
    if every:
        RevisionMap(lambda: [
            Revision(r.revision, r.down_revisions or None, dependencies=r.depends_on or None)
            for r in revisions
        ]).heads
    else:
        {graph_shape(revisions): None}
else:
    for path, source in zip(paths[:1000] if every else paths[:1], sources):
        compile(source, path, "exec", dont_inherit=True)
print(time.perf_counter() - t0)
"""


def in_fresh_python(snippet: str, *args: str) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", snippet, *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"a measurement failed:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def through_pants(repo: PantsRepo, env: dict, *args: str) -> float:
    started = time.perf_counter()
    result = repo.run(*args, env=env, timeout=3600)
    elapsed = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"./pants {' '.join(args)} failed:\n{result.output[-3000:]}")
    return elapsed


def pieces(versions: Path, runs: int) -> list:
    """(piece, ours s, library's s) for each piece, medians of alternating fresh runs."""

    def pair(snippet: str, ours: str, theirs: str, *args: str) -> tuple:
        a, b = interleaved(
            runs,
            lambda: in_fresh_python(snippet, *args, ours),
            lambda: in_fresh_python(snippet, *args, theirs),
        )
        return median(a), median(b)

    return [
        ("plain_url vs make_url", *pair(READ_URL, "ours", "sqlalchemy", "-")),
        (
            "base_to_head_order vs Alembic",
            *pair(ORDERS, "order-ours", "order-alembic", str(versions)),
        ),
        (
            "RevisionFileMemo (headers)",
            *pair(MEMOS, "one", "all", str(versions), "headers"),
        ),
        (
            "RevisionMaps (Alembic's map)",
            *pair(MEMOS, "one", "all", str(versions), "map"),
        ),
        (
            "CompiledFiles (lint)",
            *pair(MEMOS, "one", "all", str(versions), "compile"),
        ),
    ]


def cases(repo: PantsRepo, server, size: int) -> dict:
    """Each case's time through `./pants`, and the generated history's folder."""
    env = clean_env(MANAGER_DB_URL=server.url("backend"), NO_COLOR="1")
    through_pants(repo, env, "db-migrate", SPEC)
    status = [through_pants(repo, env, "db-status", SPEC) for _ in range(3)]
    versions = repo.root / MANAGER / "versions"
    shutil.rmtree(versions)
    (repo.root / MANAGER / "releases.txt").write_text("# a generated history: no releases\n")
    write_branchy_history(versions, size, salt=f"speed-code-{time.time_ns()}")
    with server.connect() as conn:
        conn.execute("DROP DATABASE backend WITH (FORCE)")
        conn.execute("CREATE DATABASE backend")
    through_pants(repo, env, "db-migrate", SPEC)
    noop = [through_pants(repo, env, "db-migrate", SPEC) for _ in range(3)]
    return {
        "manager db-status": median(status),
        f"no-op db-migrate, {size:,} revisions": median(noop),
        f"db-status after an edit, {size:,} revisions": after_edit(
            repo, env, versions, "db-status"
        ),
        f"lint after an edit, {size:,} revisions": after_edit(
            repo, env, versions, "lint", "--only=alembic-history"
        ),
        "versions": versions,
    }


def after_edit(repo: PantsRepo, env: dict, versions: Path, *goal: str) -> float:
    """The median of three runs with pantsd warm, each after a new edit of one revision's
    docstring, once pantsd's watcher has seen it (as when a user saves, then types)."""
    edited = sorted(versions.glob("*.py"))[len(list(versions.glob("*.py"))) // 2]
    through_pants(repo, env, *goal, SPEC)
    samples = []
    for _ in range(3):
        edited.write_text(edited.read_text().replace('"""', '"""Edited: ', 1))
        repo.settle()
        samples.append(through_pants(repo, env, *goal, SPEC))
    return median(samples)


def isolated_copy(work: Path) -> PantsRepo:
    """A copy whose development server port is its own (no component uses it: URLs are given)."""
    shutil.rmtree(work, ignore_errors=True)
    repo = PantsRepo.copy_of(REPO, work)
    own_dev_port(repo.root)
    return repo


SERVES = {
    "RevisionFileMemo (headers)": "db-status after an edit",
    "RevisionMaps (Alembic's map)": "db-status after an edit",
    "CompiledFiles (lint)": "lint after an edit",
    "plain_url vs make_url": "manager db-status",
    "base_to_head_order vs Alembic": "no-op db-migrate",
}


def print_table(case_times: dict, measured: list) -> None:
    """The verdict: kept at 10% of the whole case or more."""
    print("\n| piece | ours | library's | saves | case it serves | case | share | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, ours, theirs in measured:
        case = next(k for k in case_times if k.startswith(SERVES[name]))
        share = (theirs - ours) / case_times[case]
        verdict = "keep" if share >= KEEP_AT else "remove"
        print(
            f"| {name} | {ours * 1000:.1f} ms | {theirs * 1000:.1f} ms |"
            f" {(theirs - ours) * 1000:.1f} ms | {case} | {case_times[case]:.2f} s |"
            f" {share:.1%} | {verdict} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    repo = isolated_copy(REPO / "benchmarks" / ".work" / f"speed-code-{os.getpid()}")
    print(f"load at start: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        with throwaway_server() as server:
            server.create_database("backend")
            case_times = cases(repo, server, args.size)
            versions = case_times.pop("versions")
            measured = pieces(versions, args.runs)
    finally:
        repo.stop_pantsd()
    print(json.dumps({"cases": case_times, "pieces": measured}, indent=1))
    print_table(case_times, measured)
    print(f"\nload at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

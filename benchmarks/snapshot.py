"""A fresh database by replay against `db-migrate --from-snapshot`, through `./pants`, in one run.

A copy of this repo plus generated linear histories (`histories.py`) of 1,000 and 5,000
revisions in two shapes (`evolve`: Backend.AI's mix of changes, one new table in seven
revisions; `chain`: a new table in every revision, the worst case for a snapshot), with a local
cache of its own (`PANTS_LOCAL_STORE_DIR`), so the first snapshot of each history really is
built. For the manager and each generated history, with
pantsd running as users have it, every case into a new empty database on one throwaway
PostgreSQL:

1. cold snapshot: the first `db-migrate --from-snapshot` (its process replays on a throwaway
   PostgreSQL in the sandbox, then the runner loads the dump);
2. replay: `db-migrate` (the median of `--runs`), its samples alternating with those of
3. warm snapshot: `--from-snapshot` again (the snapshot from pantsd's memory; the median): the
   first load on a server, pg_restore's SQL into the empty database;
4. template built: `--from-snapshot --snapshot-template` into a database that does not exist
   yet: `pg_restore` into the server's template of the snapshot, then a copy of it;
5. second database: the same into another new database (the median): only the copy
   (`CREATE DATABASE ... TEMPLATE`), what every later fresh database on that server costs;
6. warm, `--no-pantsd`: the snapshot from the local disk cache, Pants started from nothing (one
   run, next to `./pants --no-pantsd --version`, Pants' own start).

`--against REV` also measures case 3 in a copy of an earlier commit (a scratch `git worktree`),
its samples alternating with today's, and which of the two comes right after the replay too: what
a change to the load saves through `./pants`.

Then, on the last warm load's database (at head), `db-status` and `db-status --drift --check`
alternately (the first `--drift` apart: it replays the expected schema once per history).

Ratios are replay / snapshot. Targets (issue 24): warm at 5,000 revisions (the evolving shape)
at least 10x faster than the replay, at least 2x on the manager; both printed for the first
load on a server (3) and for a second fresh database on it (5); `--drift` on the manager within
1 s of plain `db-status`. The exit code is 1 when a target measured is missed.

    benchmarks/run snapshot [--sizes 1000,5000] [--shapes evolving,table] [--runs 2] [--against REV]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from e2e.pants_repo import PantsRepo
from histories import clean_env, earlier_worktree, interleaved, median, write_component

from db_migrate.runner.postgres.server import LocalServer, throwaway_server

REPO = Path(__file__).resolve().parent.parent
MANAGER = ("manager", "src/ai/backend/manager::", "MANAGER_DB_URL")
# Generated histories by shape (`histories.write_component`'s body): "evolve": revisions that
# mostly change existing tables, as real histories do; "chain": one new table per revision, the
# snapshot's worst case (its load creates as many objects as the replay).
SHAPES = {"evolving": "evolve", "table": "chain"}
Rows = List[Tuple[str, int, Dict[str, float]]]  # (history, its revisions, seconds by case)


class Bench:
    def __init__(self, source: Path, root: Path, server: LocalServer) -> None:
        self.repo = PantsRepo.copy_of(source, root / "repo")
        self.env = clean_env(NO_COLOR="1", PANTS_LOCAL_STORE_DIR=str(root / "lmdb_store"))
        self.server = server
        self.prefix = root.name
        self.databases = 0
        self.last_url = ""  # the database of the last run with a URL
        self.loads: List[float] = []  # what each load took, as the runner reported it
        self.warm: List[float] = []  # warm --from-snapshot runs, when this is the earlier commit

    def fresh_url(self, create: bool) -> str:
        """A new database's URL; with `create=False` the database does not exist yet."""
        self.databases += 1
        name = f"{self.prefix}_{self.databases}"
        if create:
            self.server.create_database(name)
        return self.server.url(name)

    def time(
        self, *args: str, url_env: str = "", check: str = "", create: bool = True, url: str = ""
    ) -> float:
        """`./pants ARGS`, timed; with `url_env` into a new database unless `url` names one."""
        if url_env:
            self.last_url = url or self.fresh_url(create)
        env = {**self.env, url_env: self.last_url} if url_env else self.env
        started = time.perf_counter()
        proc = subprocess.run(
            ["./pants", *args], cwd=self.repo.root, env=env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        loaded = re.search(r"^Loaded in: ([\d.]+) (m?s)", proc.stdout, re.M)
        if loaded:
            self.loads.append(float(loaded.group(1)) / (1000 if loaded.group(2) == "ms" else 1))
        if proc.returncode != 0 or check not in proc.stdout + proc.stderr:
            raise RuntimeError(
                f"./pants {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return elapsed


def component_cases(
    bench: Bench, spec: str, url_env: str, runs: int, then: Optional[Bench]
) -> Dict[str, float]:
    def migrate(*flags: str, check: str, pants=(), create=True, on: Bench = bench) -> float:
        args = (*pants, "db-migrate", *flags, spec)
        return on.time(*args, url_env=url_env, check=check, create=create)

    migrate(check="Migration successful")  # warm-up: pantsd, the component's venv
    t = {"cold snapshot": migrate("--from-snapshot", check="Snapshot: built now")}
    if then is not None:  # the earlier commit builds its own snapshot once
        migrate("--from-snapshot", check="Snapshot: built now", on=then)
    # Replays and warm loads alternate, so that both see the same minutes of this machine: a
    # load's time is mostly the server creating files, which varies from minute to minute here
    # (docs/benchmarks.md, "What bounds a load").
    replay: List[float] = []
    warm: List[float] = []
    for r in range(runs):
        replay.append(migrate(check="Migration successful"))
        # With --against, which of the two warm loads comes right after the replay (whose
        # server is still writing) alternates too.
        for each in (bench, then) if r % 2 == 0 else (then, bench):
            if each is bench:
                warm.append(migrate("--from-snapshot", check="(no replay)"))
            elif each is not None:
                then.warm.append(migrate("--from-snapshot", check="(no replay)", on=then))
    t["replay"] = median(replay)
    t["warm snapshot"] = median(warm)
    rounds = ", ".join(f"{r / w:.1f}x" for r, w in zip(replay, warm))
    print(f"  replay / warm, round by round: {rounds}", flush=True)
    t["of which pg_restore"] = median(bench.loads[-runs:])
    t.update(drift_cases(bench, spec, url_env, runs))
    if then is not None:
        t["warm, earlier"] = median(then.warm[-runs:])
        t["its load, earlier"] = median(then.loads[-runs:])
    template = ("--from-snapshot", "--snapshot-template")  # into databases that do not exist
    t["template built"] = migrate(*template, check="built now in", create=False)
    t["second database"] = median(
        [migrate(*template, check="kept on the server", create=False) for _ in range(runs)]
    )
    t["of which the copy"] = median(bench.loads[-runs:])
    bench.repo.stop_pantsd()
    t["warm, --no-pantsd"] = migrate(
        "--from-snapshot", check="cached locally", pants=("--no-pantsd",)
    )
    print("  " + ", ".join(f"{case}: {seconds:.1f} s" for case, seconds in t.items()), flush=True)
    return t


def drift_cases(bench: Bench, spec: str, url_env: str, runs: int) -> Dict[str, float]:
    """`db-status` and `db-status --drift --check` alternately on the last warm load's database
    (at head): what the drift check costs once its expected schema is cached; and the first."""
    at_head = bench.last_url

    def status(*flags: str, check: str) -> float:
        return bench.time("db-status", *flags, spec, url_env=url_env, url=at_head, check=check)

    def drift() -> float:
        return status("--drift", "--check", check="matches the scripts at")

    t = {"drift, first": drift()}  # the expected schema's replay, once per history
    plain, drifted = interleaved(runs, lambda: status(check="Up-to-date"), drift)
    t["db-status"], t["db-status --drift"] = median(plain), median(drifted)
    return t


def table(header: Sequence[str], lines: Iterable[Sequence[str]]) -> None:
    """A markdown table, as docs/benchmarks.md has them: the first column text, the rest numbers."""
    print()
    print("| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 1))
    for line in lines:
        print("| " + " | ".join(line) + " |")


def report(rows: Rows, version: float, against: str) -> None:
    print()
    print(f"Pants' own start (`./pants --no-pantsd --version`): {version:.1f} s")
    header = ["history", "revisions", "replay", "--from-snapshot cold", "warm", "(its load)"]
    header += ["warm, --no-pantsd", "template built", "2nd database", "(its copy)"]
    header += ["replay / warm", "replay / 2nd", "replay / cold"]
    cases = ["replay", "cold snapshot", "warm snapshot", "of which pg_restore"]
    cases += ["warm, --no-pantsd", "template built", "second database", "of which the copy"]
    table(
        header,
        (
            [name, f"{count:,}", *(f"{t[case]:.1f} s" for case in cases)]
            + [f"{t['replay'] / t[case]:.1f}x" for case in ("warm snapshot", "second database")]
            + [f"{t['replay'] / t['cold snapshot']:.2f}x"]
            for name, count, t in rows
        ),
    )
    if against:
        table(
            ["history", "warm today", "(its load)", f"warm at {against}", "(its load)", "saved"],
            (
                [name]
                + [f"{t[case]:.2f} s" for case in ("warm snapshot", "of which pg_restore")]
                + [f"{t[case]:.2f} s" for case in ("warm, earlier", "its load, earlier")]
                + [f"{1 - t['warm snapshot'] / t['warm, earlier']:.0%}"]
                for name, _, t in rows
            ),
        )


def report_drift(rows: Rows) -> None:
    table(
        ["history (at head)", "db-status", "--drift --check", "--drift over db-status"]
        + ["first --drift"],
        (
            [name, f"{t['db-status']:.2f} s", f"{t['db-status --drift']:.2f} s"]
            + [f"{t['db-status --drift'] - t['db-status']:+.2f} s", f"{t['drift, first']:.1f} s"]
            for name, _, t in rows
        ),
    )


def targets_met(rows: Rows) -> bool:
    """Issue 24's targets, each printed with its verdict; a history not measured is not judged."""
    by_name = {name: t for name, _, t in rows}
    checks = []
    if "manager" in by_name:
        t = by_name["manager"]
        checks.append(("manager: replay / warm >= 2x", t["replay"] / t["warm snapshot"] >= 2))
        extra = t["db-status --drift"] - t["db-status"]
        checks.append(("manager: --drift within 1 s of db-status", extra <= 1.0))
    if "evolve5000" in by_name:
        t = by_name["evolve5000"]
        checks.append(("evolve5000: replay / warm >= 10x", t["replay"] / t["warm snapshot"] >= 10))
    print()
    for what, ok in checks:
        print(f"target {what}: {'met' if ok else 'MISSED'}")
    return all(ok for _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000", help="generated history sizes")
    parser.add_argument("--runs", type=int, default=2, help="samples of replay and warm (median)")
    parser.add_argument("--shapes", default="evolving,table", help="generated history shapes")
    parser.add_argument("--against", metavar="REV", help="an earlier commit: warm loads there too")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    shapes = [s for s in args.shapes.split(",") if s.strip()]
    work = REPO / "benchmarks" / ".work" / f"snapshot-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = []
    try:
        with throwaway_server() as server:
            bench = Bench(REPO, work / "today", server)
            then = None
            if args.against:
                with earlier_worktree(args.against, work) as tree:
                    then = Bench(tree, work / "then", server)
            components = [MANAGER]
            for size in sizes:
                for shape in shapes:
                    name = f"{SHAPES[shape]}{size}"
                    for repo in [bench.repo] + ([then.repo] if then else []):
                        made = write_component(repo.root, name, size, body=shape)
                    components.append((made.name, f"src/bench/{made.name}::", made.url_env))
            version = bench.time("--no-pantsd", "--version")
            for name, spec, url_env in components:
                print(f"{name} ...", flush=True)
                count = _revisions(bench.repo.root, spec)
                rows.append((name, count, component_cases(bench, spec, url_env, args.runs, then)))
            for each in [bench] + ([then] if then else []):
                each.repo.stop_pantsd()
        report(rows, version, args.against or "")
        report_drift(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if targets_met(rows) else 1


def _revisions(root: Path, spec: str) -> int:
    base = root / spec.rstrip(":")
    return sum(
        1
        for path in base.rglob("versions/*.py")
        if path.name != "__init__.py" and "revision =" in path.read_text()
    )


if __name__ == "__main__":
    raise SystemExit(main())

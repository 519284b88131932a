"""The commands a developer types many times a day, against `./pants --version` in the same run.

Cases, pantsd warm, every database at head, alternating runs, medians:
  - `./pants --version`: Pants' own floor, the baseline;
  - `./pants db-status src/ai/backend/manager::` (one component);
  - a no-op `./pants db-migrate src/ai/backend/manager::` (already at head);
  - `./pants db-status src/ai/backend::` (the three components of the repo);
  - the two manager commands without `MANAGER_DB_URL`: on the repo's development server (its
    ini URL; the copy's server on a port of its own, started by the warm-up);
  - with `--revisions N` (default 5,000): the same two commands on a generated N-revision history
    (`src/bench/hist`, trivial revision bodies).
Targets (issue 26): each one-component command at most 0.15 s over `--version`; the three
components at most 0.25 s over it.

`--against REV` measures the same in a copy of an earlier commit (a scratch `git worktree`, copied
like today's tree), alternating with today's runs, and prints each case's ratio today / then.

`--breakdown N` then runs each case N more times with DB_MIGRATE_TIMING=1 and splits its time
(medians) into: Pants until the goal asks for the runner's process, preparing it (rules), laying out
the sandbox and exec'ing, the interpreter's start and the runner's imports, the runner's command,
and after it (the goal's report, Pants' exit). A run pantsd answered itself (goals/in_pantsd.py)
splits into Pants until the goal reads, the read, and after it.

Run: benchmarks/run everyday [--runs 9] [--revisions 5000] [--against REV] [--breakdown 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Mapping, NamedTuple, Sequence, Tuple

from e2e.pants_repo import PantsRepo
from histories import clean_env, earlier_worktree, median, own_dev_port, write_component

from db_migrate.runner.postgres.server import throwaway_server

REPO = Path(__file__).resolve().parent.parent
MANAGER = "src/ai/backend/manager::"
THREE = "src/ai/backend::"
HISTORY = "src/bench/hist::"
URL_ENVS = ("MANAGER_DB_URL", "ACCOUNTMGR_DB_URL", "APPPROXY_DB_URL", "HIST_DB_URL")
TARGET_ONE, TARGET_THREE = 0.15, 0.25


class Case(NamedTuple):
    args: Tuple[str, ...]
    dev_server: bool = False  # run without MANAGER_DB_URL: the ini's development server


def cases(revisions: int) -> Dict[str, Case]:
    found = {
        "--version": Case(("--version",)),
        "db-status manager": Case(("db-status", MANAGER)),
        "no-op db-migrate manager": Case(("db-migrate", MANAGER)),
        "db-status, 3 components": Case(("db-status", THREE)),
        "db-status manager, dev server": Case(("db-status", MANAGER), dev_server=True),
        "no-op db-migrate, dev server": Case(("db-migrate", MANAGER), dev_server=True),
    }
    if revisions:
        found[f"db-status, {revisions:,} revisions"] = Case(("db-status", HISTORY))
        found[f"no-op db-migrate, {revisions:,} revisions"] = Case(("db-migrate", HISTORY))
    return found


class Subject:
    """One repo copy (today's tree, or an earlier commit's) with its databases and pantsd."""

    def __init__(self, label: str, repo: PantsRepo, env: Mapping[str, str]) -> None:
        self.label, self.repo, self.env = label, repo, dict(env)

    def run(
        self, args: Sequence[str], dev_server: bool = False, **extra: str
    ) -> subprocess.CompletedProcess:
        env = {**self.env, **extra}
        if dev_server:
            del env["MANAGER_DB_URL"]
        proc = subprocess.run(
            ["./pants", *args],
            cwd=self.repo.root,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{self.label}: ./pants {' '.join(args)} -> {proc.returncode}\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def timed(self, case: Case) -> float:
        started = time.perf_counter()
        self.run(case.args, case.dev_server)
        return time.perf_counter() - started


def prepare(label: str, source: Path, work: Path, revisions: int, new_url) -> Subject:
    """A copy of `source` with the generated history, its databases at head, pantsd warm."""
    repo = PantsRepo.copy_of(source, work / label)
    own_dev_port(repo.root)
    if revisions:
        write_component(repo.root, "hist", revisions, body="trivial")
    env = clean_env(NO_COLOR="1", **{name: new_url() for name in URL_ENVS})
    subject = Subject(label, repo, env)
    print(
        f"{label}: warming up (pantsd, the runners' venvs, every database to head) ...", flush=True
    )
    subject.run(["db-migrate", "::"])
    for case in cases(revisions).values():
        subject.run(case.args, case.dev_server)  # the first dev-server case starts the server
    return subject


def measure(
    subjects: Sequence[Subject], runs: int, revisions: int
) -> Dict[Tuple[str, str], List[float]]:
    """Every case of every subject, alternating: round after round, each case once."""
    samples: Dict[Tuple[str, str], List[float]] = {}
    for n in range(runs):
        for name, case in cases(revisions).items():
            for subject in subjects:
                samples.setdefault((subject.label, name), []).append(subject.timed(case))
        print(f"  round {n + 1}/{runs} done", flush=True)
    return samples


def print_table(subjects: Sequence[Subject], samples, revisions: int, runs: int) -> bool:
    labels = [s.label for s in subjects]
    print(f"\nmedians of {runs}, pantsd warm; over = median - median of --version (same subject)")
    head = f"{'case':<34}" + "".join(
        f" {label + ' median':>16} {'over':>8} {'ratio':>6}" for label in labels
    )
    if len(labels) > 1:
        head += f" {'today/then':>11}"
    print(head)
    met = True
    for name in cases(revisions):
        row = f"{name:<34}"
        medians = []
        for label in labels:
            m = median(samples[(label, name)])
            floor = median(samples[(label, "--version")])
            medians.append(m)
            row += f" {m:>14.3f} s {m - floor:>+7.3f}s {m / floor:>5.2f}x"
            if label == labels[0] and name != "--version":
                limit = TARGET_THREE if "3 components" in name else TARGET_ONE
                met = met and m - floor <= limit
        if len(labels) > 1:
            row += f" {medians[0] / medians[1]:>10.2f}x"
        print(row)
    print(
        f"targets (today): one component ≤ +{TARGET_ONE} s, three ≤ +{TARGET_THREE} s over --version:",
        "met" if met else "NOT met",
    )
    return met


TIMING = re.compile(r"db-migrate timing: (goal|runner|pantsd) (\S+) (.*)")


def instants(stderr: str) -> List[Dict[str, float]]:
    """Per read, in order: a runner process (the goal's and the runner's instants merged), or a
    read pantsd answered itself (`asked`, `read`)."""
    merged: List[Dict[str, float]] = []
    runs: List[Dict[str, float]] = []  # the runner processes' records, in `merged` too
    goals = runners = 0
    for kind, _component, rest in TIMING.findall(stderr):
        values = {
            k: float(v) for k, v in (item.split("=") for item in rest.split()) if k != "answered"
        }
        if kind == "pantsd":
            merged.append(values)
            continue
        index = goals if kind == "goal" else runners
        if index == len(runs):
            runs.append({})
            merged.append(runs[-1])
        runs[index].update(values)
        if kind == "goal":
            goals += 1
        else:
            runners += 1
    return merged


STEPS = (
    ("Pants until the goal asks for the runner", "start", "requested"),
    ("the runner's process prepared (rules)", "requested", "launched"),
    ("sandbox laid out, process exec'd", "launched", "process"),
    ("interpreter start, runner imports", "process", "main"),
    ("the runner's command (its imports, the database)", "main", "end"),
    ("runner exit to the goal", "end", "returned"),
    ("the goal's report, Pants' exit", "returned", "finish"),
)
# A read pantsd answered itself (goals/in_pantsd.py): no runner process.
PANTSD_STEPS = (
    ("Pants until the goal reads the database", "start", "asked"),
    ("the read in pantsd (connect, version table, ledger)", "asked", "read"),
    ("the goal's report, Pants' exit", "read", "finish"),
)


def _end(record: Dict[str, float], finish: float) -> float:
    return record.get("returned", record.get("read", finish))


def breakdown(subject: Subject, runs: int, revisions: int) -> None:
    print(f"\nwhere the time goes ({subject.label}, DB_MIGRATE_TIMING=1, medians of {runs}, ms)")
    for name, case in cases(revisions).items():
        if case.args[0] == "--version":
            continue
        rows: Dict[str, List[float]] = {}
        for _ in range(runs):
            start = time.time()
            proc = subject.run(case.args, case.dev_server, DB_MIGRATE_TIMING="1")
            finish = time.time()
            found = instants(proc.stderr)
            if not found:
                continue
            moments = {**found[0], "start": start, "finish": finish}
            steps = list(PANTSD_STEPS if "asked" in found[0] else STEPS)
            if len(found) > 1:  # the first read's steps, then the others as one row
                moments["last"] = _end(found[-1], finish)
                first_end = steps[-1][1]
                steps[-1:] = [
                    (f"the other {len(found) - 1} reads, one after another", first_end, "last"),
                    ("the goal's report, Pants' exit", "last", "finish"),
                ]
            for label, a, b in steps:
                if a in moments and b in moments:
                    rows.setdefault(label, []).append((moments[b] - moments[a]) * 1000)
            rows.setdefault("total", []).append((finish - start) * 1000)
        print(f"  {name}:")
        for label, values in rows.items():
            print(f"    {label:<50} {median(values):>8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9, help="samples per case")
    parser.add_argument("--revisions", type=int, default=5000, help="0: no generated history")
    parser.add_argument("--against", metavar="REV", help="an earlier commit to compare with")
    parser.add_argument("--breakdown", type=int, default=5, help="timed runs per case (0: none)")
    args = parser.parse_args()

    work = REPO / "benchmarks" / ".work" / f"everyday-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subjects: List[Subject] = []
    print(f"load at start: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        with throwaway_server() as server:
            names = iter(range(1000))

            def new_url() -> str:
                name = f"everyday_{next(names)}"
                server.create_database(name)
                return server.url(name)

            subjects.append(prepare("today", REPO, work, args.revisions, new_url))
            if args.against:
                with earlier_worktree(args.against, work) as tree:
                    subjects.append(prepare("then", tree, work, args.revisions, new_url))
            samples = measure(subjects, args.runs, args.revisions)
            met = print_table(subjects, samples, args.revisions, args.runs)
            if args.breakdown:
                breakdown(subjects[0], args.breakdown, args.revisions)
    finally:
        for subject in subjects:
            subject.run(["db-dev-server", "--action=stop"])
            subject.repo.stop_pantsd()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload at end: {os.getloadavg()[0]:.2f}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

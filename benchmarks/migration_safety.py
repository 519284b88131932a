"""The migration-safety lint through `./pants`, cold and warm, against the same tools run plainly.

Two components of a repo copy, each with `--migration-safety-all`: the manager (28 real
revisions) and a generated N-revision linear history (each revision a table). Per component:

- cold: pantsd up and the environments built (a `db-migrate --sql` run first), then a nonce in
  env.py, so every revision's process has a new cache key and executes;
- warm: nothing changed (target: under 1 s);
- one-file edit: a comment added to one revision (target: exactly one process executes,
  counted by the engine's `--stats-log`);
- baseline, in the same run: plain Alembic's offline SQL of the whole history in one process
  (`python -m alembic upgrade head --sql`) piped into squawk once: the same two tools with no
  per-revision rendering, no line mapping, no rules of ours, and nothing cached.

    benchmarks/run migration_safety [--revisions 500] [--warm-runs 3]
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e.pants_repo import PantsRepo
from histories import clean_env, median, write_component

REPO = Path(__file__).resolve().parent.parent
EXECUTED = re.compile(r"local_execution_requests: (\d+)")


def pants(repo: PantsRepo, *args: str) -> tuple:
    """(wall seconds, processes executed) of one `./pants --stats-log ...` run."""
    started = time.perf_counter()
    proc = subprocess.run(
        ["./pants", "--stats-log", *args],
        cwd=repo.root,
        env=clean_env(NO_COLOR="1"),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    m = EXECUTED.search(proc.stderr)
    if proc.returncode not in (0, 1) or not m:
        sys.exit(f"./pants {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall, int(m.group(1))


def squawk_binary() -> str:
    subprocess.run(
        ["./pants", "export", "--resolve=migration-safety"],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (found,) = glob.glob(str(REPO / "dist/export/python/virtualenvs/migration-safety/*/bin/squawk"))
    return found


def baseline(repo: PantsRepo, ini: str, squawk: str) -> float:
    """Plain Alembic's offline SQL of the whole history, then squawk on it once."""
    started = time.perf_counter()
    sql = subprocess.run(
        [os.environ["BENCH_PYTHON"], "-m", "alembic", "-c", ini, "upgrade", "head", "--sql"],
        cwd=repo.root,
        env=clean_env(PYTHONPATH="src"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    subprocess.run(
        [squawk, "--reporter=json", "--stdin-filepath=all.sql"],
        input=sql,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started


def measure(
    repo: PantsRepo, spec: str, script_dir: Path, ini: str, squawk: str, warm_runs: int
) -> dict:
    lint = ("lint", "--only=migration-safety", "--migration-safety-all", spec)
    subprocess.run(
        ["./pants", "db-migrate", "--sql", spec],
        cwd=repo.root,
        env=clean_env(),
        capture_output=True,
    )
    env_py = script_dir / "env.py"
    env_py.write_text(env_py.read_text() + f"\n# benchmark nonce {time.time_ns()}\n")
    cold = pants(repo, *lint)
    warm = [pants(repo, *lint) for _ in range(warm_runs)]
    revisions = sorted((script_dir / "versions").glob("*.py"))
    edited = revisions[len(revisions) // 2]
    edited.write_text(edited.read_text() + "\n# reviewed\n")
    time.sleep(0.5)
    after_edit = pants(repo, *lint)
    base = [baseline(repo, ini, squawk) for _ in range(3)]
    return {"cold": cold, "warm": warm, "edit": after_edit, "baseline": median(base)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--warm-runs", type=int, default=3)
    args = parser.parse_args()

    squawk = squawk_binary()
    work = REPO / "benchmarks" / ".work" / f"safety-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    repo = PantsRepo.copy_of(REPO, work)
    hist = write_component(repo.root, "hist", args.revisions, body="table")
    manager_dir = repo.root / "src/ai/backend/manager/models/alembic"
    cases = [
        ("manager", "src/ai/backend/manager::", manager_dir, "alembic.ini", 28),
        (
            f"generated ({args.revisions})",
            "src/bench/hist::",
            hist.script_dir,
            hist.ini.name,
            args.revisions,
        ),
    ]
    ok = True
    try:
        rows = []
        for name, spec, script_dir, ini, count in cases:
            result = measure(repo, spec, script_dir, ini, squawk, args.warm_runs)
            rows.append((name, count, result))
    finally:
        repo.stop_pantsd()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n`./pants lint --only=migration-safety --migration-safety-all`, warm = median of {args.warm_runs}"
    )
    header = (
        f"{'component':18}{'revisions':>10}{'cold':>9}{'per rev':>9}{'ran':>6}{'warm':>8}{'ran':>5}"
    )
    print(header + f"{'1 edit':>8}{'ran':>5}{'plain':>9}{'per rev':>9}{'cold/plain':>12}")
    for name, count, r in rows:
        (cold, ran), (edit, edit_ran) = r["cold"], r["edit"]
        warm = median([w for w, _ in r["warm"]])
        warm_ran = max(n for _, n in r["warm"])
        print(
            f"{name:18}{count:>10}{cold:>8.1f}s{cold / count * 1000:>7.0f}ms{ran:>6}{warm:>7.2f}s{warm_ran:>5}"
            f"{edit:>7.2f}s{edit_ran:>5}{r['baseline']:>8.2f}s{r['baseline'] / count * 1000:>7.1f}ms"
            f"{cold / r['baseline']:>11.1f}x"
        )
        ok = ok and ran >= count and warm < 1.0 and warm_ran == 0 and edit_ran == 1
    print("\ntargets: warm re-run < 1 s with 0 processes; one-file edit re-lints 1 revision")
    print("result:", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""What `pants db-status --drift` costs over plain `pants db-status` (issue 24, point 4).

The manager's database at head, pantsd warm, the expected schema already replayed once (a warm
cache: the replay is a cached process whose inputs do not change between samples). Samples
alternate between the two commands. Target: `--drift` within 1 s of plain `db-status`.
Also printed once: the first `--drift` (the cold replay on a throwaway PostgreSQL).

Run: benchmarks/run drift [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from e2e.pants_repo import PantsRepo
from histories import clean_env, interleaved, median, timed

from db_migrate.runner.postgres.server import throwaway_server

REPO = Path(__file__).resolve().parent.parent
MANAGER = "src/ai/backend/manager::"
TARGET_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="samples per case")
    args = parser.parse_args()

    work = REPO / "benchmarks" / ".work" / f"drift-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    repo = PantsRepo.copy_of(REPO, work)
    try:
        with throwaway_server() as server:
            server.create_database("manager")
            env = clean_env(MANAGER_DB_URL=server.url("manager"), NO_COLOR="1")

            def run(*extra: str) -> float:
                return timed(["./pants", "db-status", *extra, MANAGER], cwd=repo.root, env=env)

            print("warming up: pantsd, the runner venv, the manager at head ...", flush=True)
            timed(["./pants", "db-migrate", MANAGER], cwd=repo.root, env=env)
            run()
            cold = run("--drift", "--check")
            run("--drift", "--check")
            plain, drift = interleaved(args.runs, run, lambda: run("--drift", "--check"))
    finally:
        repo.stop_pantsd()
        shutil.rmtree(work, ignore_errors=True)

    extra = median(drift) - median(plain)
    print()
    print(f"{'case (manager at head, pantsd warm)':<46} {'median':>9} {'min':>9} {'max':>9}")
    for name, samples in (("db-status", plain), ("db-status --drift --check", drift)):
        print(
            f"{name + f' ({args.runs} runs)':<46} {median(samples):>7.3f} s"
            f" {min(samples):>7.3f} s {max(samples):>7.3f} s"
        )
    print(f"{'first --drift (replay on a throwaway PostgreSQL)':<46} {cold:>7.3f} s")
    print(f"\n--drift costs {extra:+.3f} s over db-status (target: within {TARGET_SECONDS:.0f} s)")
    ok = extra <= TARGET_SECONDS
    print("result:", "target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

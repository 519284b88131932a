"""What `pants db-migrate` costs over plain Alembic, measured side by side in one run.

1. No-op: `./pants db-migrate src/ai/backend/manager::` with pantsd warm, vs
   `python -m alembic -c alembic.ini upgrade head` in the same locked environment (the exported
   python-default venv), both against a database already at head. Target: at most 1.5x.
2. A 500-revision chain applied from empty (each revision creates a table), through the goal vs
   plain Alembic, each on a fresh database. Target: at most 1.1x (no per-revision overhead).

Run: benchmarks/run migrate_overhead [--runs N] [--chain-runs N] [--chain N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from e2e.pants_repo import PantsRepo
from histories import clean_env, interleaved, median, timed, write_component

from db_migrate.runner.postgres.server import throwaway_server

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="samples per no-op case")
    parser.add_argument("--chain-runs", type=int, default=3, help="samples per chain case")
    parser.add_argument("--chain", type=int, default=500, help="revisions in the generated chain")
    args = parser.parse_args()
    python = os.environ.get("BENCH_PYTHON") or sys.executable

    work = REPO / "benchmarks" / ".work" / f"migrate-overhead-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    repo = PantsRepo.copy_of(REPO, work)
    chain = write_component(repo.root, "chain", args.chain, body="table")
    try:
        with throwaway_server() as server:
            names = iter(range(10_000))

            def fresh_db() -> str:
                name = f"bench_{next(names)}"
                server.create_database(name)
                return server.url(name)

            manager_url = fresh_db()
            env = clean_env(MANAGER_DB_URL=manager_url, NO_COLOR="1")
            plain_env = clean_env(MANAGER_DB_URL=manager_url, PYTHONPATH="src")
            print("warming up: pantsd, the runner venv, the manager at head ...", flush=True)
            timed(["./pants", "db-migrate", "src/ai/backend/manager::"], cwd=repo.root, env=env)
            timed(["./pants", "db-migrate", "src/ai/backend/manager::"], cwd=repo.root, env=env)
            timed(
                [python, "-m", "alembic", "-c", "alembic.ini", "upgrade", "head"],
                cwd=repo.root,
                env=plain_env,
            )

            ours, plain = interleaved(
                args.runs,
                lambda: timed(
                    ["./pants", "db-migrate", "src/ai/backend/manager::"], cwd=repo.root, env=env
                ),
                lambda: timed(
                    [python, "-m", "alembic", "-c", "alembic.ini", "upgrade", "head"],
                    cwd=repo.root,
                    env=plain_env,
                ),
            )
            noop_ratio = median(ours) / median(plain)

            warm_url = fresh_db()
            timed(
                ["./pants", "db-migrate", "--target=+1", "src/bench/chain::"],
                cwd=repo.root,
                env=clean_env(CHAIN_DB_URL=warm_url, NO_COLOR="1"),
            )

            def ours_chain() -> float:
                return timed(
                    ["./pants", "db-migrate", "src/bench/chain::"],
                    cwd=repo.root,
                    env=clean_env(CHAIN_DB_URL=fresh_db(), NO_COLOR="1"),
                )

            def plain_chain() -> float:
                return timed(
                    [python, "-m", "alembic", "-c", chain.ini.name, "upgrade", "head"],
                    cwd=repo.root,
                    env=clean_env(CHAIN_DB_URL=fresh_db(), PYTHONPATH="src"),
                )

            ours_c, plain_c = interleaved(args.chain_runs, ours_chain, plain_chain)
            chain_ratio = median(ours_c) / median(plain_c)
    finally:
        repo.stop_pantsd()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'case':<44} {'pants db-migrate':>17} {'plain alembic':>14} {'ratio':>7} {'target':>7}")
    print(
        f"{'no-op, pantsd warm (median of ' + str(args.runs) + ')':<44} {median(ours):>15.3f} s {median(plain):>12.3f} s"
        f" {noop_ratio:>6.2f}x {'≤1.5x':>7}"
    )
    print(
        f"{f'{args.chain}-revision chain from empty (median of {args.chain_runs})':<44} {median(ours_c):>15.3f} s"
        f" {median(plain_c):>12.3f} s {chain_ratio:>6.2f}x {'≤1.1x':>7}"
    )
    print(
        f"{'per revision':<44} {median(ours_c) / args.chain * 1000:>14.2f} ms"
        f" {median(plain_c) / args.chain * 1000:>11.2f} ms"
    )
    ok = noop_ratio <= 1.5 and chain_ratio <= 1.1
    print("\nresult:", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

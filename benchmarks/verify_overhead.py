"""What `pants db-verify` costs next to plain Alembic doing the same up/down/up, in one run.

A generated linear chain of N revisions (default 500; each creates a table with a serial primary
key, its downgrade drops it) in a copy of this repo. Interleaved samples (ABCABC...), each plain
sample on a fresh database of a server that is already running:

1. `./pants db-verify --force src/bench/chain::`, pantsd warm. Everything it does is in the time:
   starting its own throwaway PostgreSQL in its sandbox, the runner, upgrade from empty one revision
   at a time with a schema snapshot after every step, downgrade one at a time comparing the schema
   after every step, upgrade to head again, a final catalog comparison, the models phase (the
   generated env.py has no target_metadata, so that is one env.py run). Also reported: the time
   of those phases alone, as the runner measures them.
2. Plain Alembic, three CLI commands in the same locked venv: `python -m alembic -c
   alembic-chain.ini upgrade head`, `downgrade base`, `upgrade head`. The same DDL, one transaction
   per revision (the generated env.py sets transaction_per_migration), no checks: the floor.
3. Plain Alembic one revision at a time, the way a script would do it without db-verify:
   `command.upgrade(cfg, "+1")` N times, `command.downgrade(cfg, "-1")` N times, then
   `command.upgrade(cfg, "head")`, all in one Python process (no interpreter start-ups counted).

Run: benchmarks/run verify_overhead [--chain N] [--runs N]
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

from e2e.pants_repo import PantsRepo
from histories import clean_env, interleaved, median, timed, write_component

from db_migrate.runner.postgres.server import throwaway_server

REPO = Path(__file__).resolve().parent.parent

STEP_BY_STEP = """
import sys, time
from alembic import command
from alembic.config import Config
config = Config(sys.argv[1])
count = int(sys.argv[2])
started = time.perf_counter()
for _ in range(count):
    command.upgrade(config, "+1")
for _ in range(count):
    command.downgrade(config, "-1")
command.upgrade(config, "head")
print(time.perf_counter() - started)
"""

TIME_LINE = re.compile(r"^Time: (?P<total>[\d.]+) (?P<unit>ms|s) \((?P<phases>.*)\)$", re.M)


def _seconds(value: str, unit: str) -> float:
    return float(value) / 1000 if unit == "ms" else float(value)


def phases_of(stdout: str) -> dict:
    """The runner's own timings from the success block: total and per phase, in seconds."""
    m = TIME_LINE.search(stdout)
    if not m:
        raise RuntimeError(f"no Time: line in db-verify's output:\n{stdout[-3000:]}")
    phases = {"total": _seconds(m.group("total"), m.group("unit"))}
    for part in m.group("phases").split(", "):
        name, value, unit = part.rsplit(" ", 2)
        phases[name] = _seconds(value, unit)
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chain", type=int, default=500, help="revisions in the generated chain")
    parser.add_argument("--runs", type=int, default=3, help="samples per case")
    args = parser.parse_args()
    python = os.environ.get("BENCH_PYTHON") or sys.executable
    n = args.chain

    work = REPO / "benchmarks" / ".work" / f"verify-overhead-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    repo = PantsRepo.copy_of(REPO, work)
    chain = write_component(repo.root, "chain", n, body="table")
    runner_phases: list = []
    try:
        with throwaway_server() as server:
            names = iter(range(10_000))

            def fresh_db() -> str:
                name = f"bench_{next(names)}"
                server.create_database(name)
                return server.url(name)

            verify_env = clean_env(NO_COLOR="1")

            def ours() -> float:
                started = time.perf_counter()
                proc = subprocess.run(
                    # --force: the same inputs every sample, so without it the result is cached.
                    ["./pants", "db-verify", "--force", "src/bench/chain::"],
                    cwd=repo.root,
                    env=verify_env,
                    capture_output=True,
                    text=True,
                )
                elapsed = time.perf_counter() - started
                if proc.returncode != 0:
                    raise RuntimeError(
                        f"db-verify failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
                    )
                runner_phases.append(phases_of(proc.stdout))
                return elapsed

            def plain_cli() -> float:
                env = clean_env(CHAIN_DB_URL=fresh_db(), PYTHONPATH="src")
                alembic = [python, "-m", "alembic", "-c", chain.ini.name]
                return sum(
                    timed([*alembic, *step], cwd=repo.root, env=env)
                    for step in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"])
                )

            def plain_steps() -> float:
                env = clean_env(CHAIN_DB_URL=fresh_db(), PYTHONPATH="src")
                proc = subprocess.run(
                    [python, "-c", STEP_BY_STEP, chain.ini.name, str(n)],
                    cwd=repo.root,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                return float(proc.stdout.strip().splitlines()[-1])

            print(
                f"warming up: pantsd, the runner's venv, one db-verify of the {n}-revision chain ...",
                flush=True,
            )
            ours()
            runner_phases.clear()
            ours_s, cli_s, steps_s = interleaved(args.runs, ours, plain_cli, plain_steps)
    finally:
        repo.stop_pantsd()
        shutil.rmtree(work, ignore_errors=True)

    inside = {key: median([p[key] for p in runner_phases]) for key in runner_phases[0]}
    checked = inside["upgrade"] + inside["downgrade"] + inside["upgrade again"]
    rows = [
        ("pants db-verify (whole command)", median(ours_s)),
        ("  its up/down/up phases, as the runner times them", checked),
        ("plain alembic: upgrade head, downgrade base, upgrade head (3 CLI runs)", median(cli_s)),
        ("plain alembic: +1 x N, -1 x N, head (one process)", median(steps_s)),
    ]
    print()
    print(f"{n}-revision chain, median of {args.runs} (machine: {os.cpu_count()} CPUs)")
    print(f"{'case':<72} {'total':>9} {'per revision':>13}")
    for label, seconds in rows:
        print(f"{label:<72} {seconds:>7.2f} s {seconds / n * 1000:>10.2f} ms")
    print()
    print(f"db-verify / plain CLI up-down-up:            {median(ours_s) / median(cli_s):.2f}x")
    print(f"db-verify phases / plain CLI up-down-up:     {checked / median(cli_s):.2f}x")
    print(f"db-verify / plain one-at-a-time:             {median(ours_s) / median(steps_s):.2f}x")
    phase_text = ", ".join(f"{k} {v:.2f} s" for k, v in inside.items() if k != "total")
    print(f"runner phases (median): {phase_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

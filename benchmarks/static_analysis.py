"""Static analysis of a long history: ours against Alembic loading the same files, side by side.

A generated N-revision linear history with trivial bodies (the hardest case for the ratio, since
Alembic's imports are cheap there). Cold: each reader in a fresh interpreter, nothing warm:

- pre-flight: what `db-migrate` does before touching a database: read every file's header
  (`read_revision_header`), build the graph, take its heads;
- full parse: `parse_revision_file`, which also compiles each file (what `pants lint` adds), then
  Alembic's `RevisionMap` of the headers (`history.History`);
- Alembic: `ScriptDirectory(dir).revision_map.heads`, which imports every file;
- compile() only: the floor for anything that checks each file's whole syntax.

Warm: the same history as a component of a repo copy, through `./pants db-migrate` with pantsd:
the static pre-flight's own time (from the goal's debug log) when nothing changed, and which
files are parsed again after one file is edited.

    benchmarks/run static_analysis [--revisions 5000] [--runs 3] [--no-pants]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from e2e.pants_repo import PantsRepo
from histories import clean_env, write_component

REPO = Path(__file__).resolve().parent.parent

READERS = {
    "pre-flight (headers + checks)": """
import json, os, sys, time
t0 = time.perf_counter()
from db_migrate.core.revision_file import read_revision_header
from db_migrate.core.history import History
t1 = time.perf_counter()
revisions = []
for name in sorted(os.listdir(sys.argv[1])):
    if name.endswith(".py") and not name.startswith(("__init__", ".#")):
        path = os.path.join(sys.argv[1], name)
        with open(path, "rb") as f:
            revisions.append(read_revision_header(path, f.read()))
heads = History(revisions).heads  # finds the problems first
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "work": t2 - t1, "heads": list(heads)}))
""",
    "full parse (+ compile)": """
import json, os, sys, time
t0 = time.perf_counter()
from db_migrate.core.history import History
from db_migrate.core.revision_file import is_revision_file, parse_revision_file
t1 = time.perf_counter()
revisions = []
for name in sorted(os.listdir(sys.argv[1])):
    if is_revision_file(name):
        path = os.path.join(sys.argv[1], name)
        with open(path, "rb") as f:
            revisions.append(parse_revision_file(path, f.read()))
heads = History(revisions).heads
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "work": t2 - t1, "heads": list(heads)}))
""",
    "alembic ScriptDirectory": """
import json, os, sys, time
t0 = time.perf_counter()
from alembic.script import ScriptDirectory
t1 = time.perf_counter()
heads = ScriptDirectory(os.path.dirname(sys.argv[1])).revision_map.heads
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "work": t2 - t1, "heads": list(heads)}))
""",
    "compile() only": """
import json, os, sys, time
t1 = time.perf_counter()
for name in sorted(os.listdir(sys.argv[1])):
    path = os.path.join(sys.argv[1], name)
    with open(path, "rb") as f:
        compile(f.read(), path, "exec", dont_inherit=True)
print(json.dumps({"import": 0.0, "work": time.perf_counter() - t1, "heads": []}))
""",
}
PREFLIGHT = re.compile(
    r"static pre-flight of \d+ component\(s\), (\d+) revision files: ([\d.]+) ms"
)


def run_fresh(snippet: str, versions: Path) -> tuple:
    """(work seconds, process wall seconds, heads) from a fresh interpreter writing no bytecode."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", snippet, str(versions)], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"reader failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["work"], wall, result["heads"]


def cold(count: int, runs: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="db-migrate-bench-"))
    try:
        component = write_component(root, "hist", count, body="trivial", build=False)
        versions = component.script_dir / "versions"
        best: dict = {}
        for _ in range(runs):  # interleaved, so machine load hits every reader alike
            for name, snippet in READERS.items():
                work, wall, heads = run_fresh(snippet, versions)
                assert name.startswith("compile") or heads == [component.head], (name, heads)
                old = best.get(name, (float("inf"), float("inf")))
                best[name] = (min(old[0], work), min(old[1], wall))
        return best
    finally:
        shutil.rmtree(root, ignore_errors=True)


def preflight(repo: PantsRepo) -> tuple:
    """(pre-flight ms, revision files, files parsed) of one `./pants -ldebug db-migrate` run."""
    env = clean_env(HIST_DB_URL="postgresql+psycopg://nobody@127.0.0.1:9/none", NO_COLOR="1")
    proc = subprocess.run(
        ["./pants", "-ldebug", "db-migrate", "src/bench/hist::"],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
    )
    m = PREFLIGHT.search(proc.stderr)
    if not m:
        sys.exit(f"no pre-flight timing in the output:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    parsed = sum(int(n) for n in re.findall(r"parsing (\d+) revision file", proc.stderr))
    return float(m.group(2)), int(m.group(1)), parsed


def warm(count: int) -> dict:
    work = REPO / "benchmarks" / ".work" / f"static-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    repo = PantsRepo.copy_of(REPO, work)
    component = write_component(repo.root, "hist", count, body="trivial")
    try:
        first = preflight(repo)  # pantsd starts: every file parsed
        second = preflight(repo)  # nothing changed
        third = preflight(repo)
        edited = next(component.script_dir.glob("versions/*_step_7.py"))
        edited.write_text(edited.read_text() + "\n# touched\n")
        time.sleep(0.5)
        after_edit = preflight(repo)
        return {"cold": first, "warm": (second, third), "after_edit": after_edit}
    finally:
        repo.stop_pantsd()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--revisions", type=int, default=5000)
    parser.add_argument(
        "--runs", type=int, default=3, help="fresh processes per reader; the best is kept"
    )
    parser.add_argument(
        "--no-pants", action="store_true", help="skip the warm measurement through ./pants"
    )
    args = parser.parse_args()

    best = cold(args.revisions, args.runs)
    alembic = best["alembic ScriptDirectory"]
    print(
        f"\n{args.revisions} revisions, linear, trivial bodies; cold, best of {args.runs} fresh processes each"
    )
    print(f"{'':30}{'work':>10}{'process wall':>15}{'alembic/this (work)':>22}")
    for name, (work_s, wall_s) in best.items():
        print(f"{name:30}{work_s:>9.3f}s{wall_s:>14.3f}s{alembic[0] / work_s:>21.1f}x")
    ratio = alembic[0] / best["pre-flight (headers + checks)"][0]
    ok = ratio >= 10
    print(f"\ncold pre-flight vs Alembic: {ratio:.1f}x faster (target ≥10x)")

    if not args.no_pants:
        result = warm(args.revisions)
        cold_ms, files, parsed = result["cold"]
        print(f"\nthrough ./pants with pantsd ({files} revision files):")
        print(f"  first run (pantsd fresh): pre-flight {cold_ms:.1f} ms, {parsed} files parsed")
        for i, (ms, _, n) in enumerate(result["warm"], 1):
            print(
                f"  warm re-run {i}, nothing changed: pre-flight {ms:.1f} ms, {n} files parsed (target <100 ms, 0 parsed)"
            )
            ok = ok and ms < 100 and n == 0
        ms, _, n = result["after_edit"]
        print(f"  after editing one file: pre-flight {ms:.1f} ms, {n} file parsed (target 1)")
        ok = ok and n == 1
    print("\nresult:", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

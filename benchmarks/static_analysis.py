"""Cold static analysis of a long history: db_migrate.revisions against Alembic loading the same files.

Writes an N-revision linear history (Alembic's generic template, trivial bodies) to a temp dir, then,
each in a fresh interpreter so nothing is warm: (a) read and parse every file, build the graph, take
its heads; (b) `ScriptDirectory(dir).revision_map.heads`, which imports every file. A third row,
`compile()` of every file, is the floor for any reader that checks the whole file's syntax.

    benchmarks/run static_analysis [--revisions 5000] [--runs 3]
    PYTHONPATH=pants-plugins python benchmarks/static_analysis.py ...  # any Python with alembic
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

TEMPLATE = '''"""{message}

Revision ID: {revision}
Revises: {down}
Create Date: 2024-01-01 00:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = {revision!r}
down_revision: Union[str, Sequence[str], None] = {down_revision!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
'''

# Each snippet runs in a fresh interpreter and prints {"work": seconds, "heads": [...]}; imports are
# timed separately (Alembic's pulls in SQLAlchemy) and show up in the process wall time.
OURS = """
import json, os, sys, time
t0 = time.perf_counter()
from db_migrate.revisions import RevisionGraph, is_revision_file, parse_revision_file
t1 = time.perf_counter()
versions = sys.argv[1]
revisions = []
for name in sorted(os.listdir(versions)):
    if is_revision_file(name):
        path = os.path.join(versions, name)
        with open(path, "rb") as f:
            revisions.append(parse_revision_file(path, f.read()))
heads = RevisionGraph(revisions).heads
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "work": t2 - t1, "heads": list(heads)}))
"""
ALEMBIC = """
import json, os, sys, time
t0 = time.perf_counter()
from alembic.script import ScriptDirectory
t1 = time.perf_counter()
heads = ScriptDirectory(os.path.dirname(sys.argv[1])).revision_map.heads
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "work": t2 - t1, "heads": list(heads)}))
"""
COMPILE_ONLY = """
import json, os, sys, time
t1 = time.perf_counter()
versions = sys.argv[1]
for name in sorted(os.listdir(versions)):
    path = os.path.join(versions, name)
    with open(path, "rb") as f:
        compile(f.read(), path, "exec", dont_inherit=True)
t2 = time.perf_counter()
print(json.dumps({"import": 0.0, "work": t2 - t1, "heads": []}))
"""


def write_history(versions: str, count: int) -> str:
    """A linear history with random 12-hex-digit ids, as `alembic revision` names them; returns the head."""
    rng = random.Random(5000)
    down = None
    for n in range(count):
        revision = f"{rng.getrandbits(48):012x}"
        with open(os.path.join(versions, f"{revision}_step_{n}.py"), "w") as f:
            f.write(
                TEMPLATE.format(
                    message=f"step {n}", revision=revision, down=down or "", down_revision=down
                )
            )
        down = revision
    assert down is not None
    return down


def run_fresh(snippet: str, versions: str) -> tuple[float, float, list[str]]:
    """(work seconds, process wall seconds, heads) from a fresh interpreter that writes no bytecode."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", snippet, versions], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{sys.executable} -c ... failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["work"], wall, result["heads"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--revisions", type=int, default=5000)
    parser.add_argument(
        "--runs", type=int, default=3, help="fresh processes per reader; the best is kept"
    )
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="db-migrate-bench-")
    try:
        versions = os.path.join(root, "versions")
        os.mkdir(versions)
        head = write_history(versions, args.revisions)
        readers = {
            "db_migrate.revisions": OURS,
            "alembic ScriptDirectory": ALEMBIC,
            "compile() only": COMPILE_ONLY,
        }
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.runs):  # interleaved, so machine load hits every reader alike
            for name, snippet in readers.items():
                work, wall, heads = run_fresh(snippet, versions)
                assert snippet is COMPILE_ONLY or heads == [head], (name, heads)
                previous = best.get(name, (float("inf"), float("inf")))
                best[name] = (min(previous[0], work), min(previous[1], wall))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    ours, alembic = best["db_migrate.revisions"], best["alembic ScriptDirectory"]
    print(
        f"{args.revisions} revisions, linear, trivial bodies; best of {args.runs} fresh processes each"
    )
    print(f"{'':26}{'work':>10}{'process wall':>16}")
    for name, (work, wall) in best.items():
        print(f"{name:26}{work:>9.3f}s{wall:>15.3f}s")
    print(f"{'alembic / ours':26}{alembic[0] / ours[0]:>9.1f}x{alembic[1] / ours[1]:>15.1f}x")


if __name__ == "__main__":
    main()

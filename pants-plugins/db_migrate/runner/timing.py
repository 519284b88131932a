"""`DB_MIGRATE_TIMING=1`: when the runner's process started, when `main` began and ended, on stderr.

For benchmarks/everyday.py, which sets it to split the time a user waits into Pants' part, the
sandbox and the interpreter's start, and the runner's own work. Only wall-clock instants
(epoch seconds) are printed, so the goal's timestamps and ours line up.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Mapping

PREFIX = "db-migrate timing:"


def process_started() -> float:
    """This process's start (its exec, or the shell that exec'd it) as epoch seconds, from
    /proc: the kernel's start tick against its uptime now (a resolution of one tick, 10 ms)."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return 0.0
    started_after_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return time.time() - (uptime - started_after_boot)


def report(environ: Mapping[str, str], component: str, entered: float) -> None:
    """One line naming the instants of this run (nothing unless DB_MIGRATE_TIMING is set)."""
    if not environ.get("DB_MIGRATE_TIMING"):
        return
    print(
        f"{PREFIX} runner {component} process={process_started():.4f} main={entered:.4f}"
        f" end={time.time():.4f}",
        file=sys.stderr,
        flush=True,
    )

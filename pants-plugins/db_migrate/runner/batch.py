"""Several components' read-only commands in one runner process, one thread each.

`db-status` over several components pays the interpreter's start and psycopg's import once, and
waits for their databases together. What each plan prints is kept apart (per thread) and handed
back with its outcome, so the goal shows every component's output in the documented order, as if
each had run alone.
"""

from __future__ import annotations

import io
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, TextIO, Tuple

from db_migrate.core.contract import BatchEntry, RunnerBatch, RunnerPlan
from db_migrate.core.outcome import Outcome

PlanRunner = Callable[[RunnerPlan], Tuple[int, Outcome]]


class PerThreadStream(io.TextIOBase):
    """A stream writing to the calling thread's buffer while it captures, else to the real one."""

    def __init__(self, real: TextIO) -> None:
        super().__init__()
        self.real = real
        self._local = threading.local()

    def capture(self) -> io.StringIO:
        self._local.buffer = io.StringIO()
        return self._local.buffer

    def release(self) -> str:
        buffer = self._local.__dict__.pop("buffer")
        return buffer.getvalue()

    def write(self, text: str) -> int:
        buffer = getattr(self._local, "buffer", None)
        return (buffer or self.real).write(text)

    def flush(self) -> None:
        if getattr(self._local, "buffer", None) is None:
            self.real.flush()


def run_batch(batch: RunnerBatch, run_plan: PlanRunner, result_file: Optional[str]) -> int:
    """Run every plan concurrently; write their entries, in the batch's order, to `result_file`.

    The process exits 0: each plan's own exit code is in its entry."""
    out, err = PerThreadStream(sys.stdout), PerThreadStream(sys.stderr)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:

        def captured(plan: RunnerPlan) -> BatchEntry:
            out.capture()
            err.capture()
            try:
                code, outcome = run_plan(plan)
            finally:
                printed, complained = out.release(), err.release()
            return BatchEntry(code, printed, complained, outcome.to_dict())

        with ThreadPoolExecutor(max_workers=len(batch.plans)) as pool:
            entries = tuple(pool.map(captured, batch.plans))
    finally:
        sys.stdout, sys.stderr = out.real, err.real
    if result_file:
        with open(result_file, "w", encoding="utf-8") as f:
            f.write(BatchEntry.list_to_json(entries))
    return 0

"""Live progress without a write per line: lines are buffered and flushed at most every 0.1 s.

A 500-revision upgrade prints 1,000 progress lines; flushing each one separately through
Pants' interactive process costs more than some revisions do. A flusher thread keeps the output
live (a long revision's start line still shows within 0.1 s) while fast runs flush in batches.
"""

from __future__ import annotations

import sys
import threading
from typing import Optional, TextIO


class LiveOutput:
    def __init__(self, stream: Optional[TextIO] = None, interval: float = 0.1) -> None:
        self._stream = stream or sys.stdout
        self._interval = interval
        self._lock = threading.Lock()
        self._dirty = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-output", daemon=True)
        self._thread.start()

    def line(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._dirty = True

    def flush(self) -> None:
        with self._lock:
            if self._dirty:
                self._stream.flush()
                self._dirty = False

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.flush()

    def __enter__(self) -> LiveOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

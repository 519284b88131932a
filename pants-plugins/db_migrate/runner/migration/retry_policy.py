"""When db-migrate retries a revision that timed out waiting for a lock, and how long it pauses.

A revision's `ALTER TABLE` that waits for a lock puts every later query on that table in a queue
behind it, so the component's `lock_timeout` bounds how long traffic can stall. A short timeout
alone would fail the run whenever a long transaction is open; retrying after a pause, while the
table serves traffic, lets the migration in once that transaction ends (what strong_migrations'
`lock_timeout_retries` and GitLab's `with_lock_retries` do). The pauses double from `BASE_DELAY`
up to `MAX_DELAY`, each drawn from the upper half of its range, so two runners (or a runner and
an application's periodic job) do not fall into step, and no retry comes at once.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Optional

from db_migrate.core.contract import SharedSettings

BASE_DELAY = 2.0
MAX_DELAY = 60.0

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?")


def postgres_seconds(duration: str) -> float:
    """A PostgreSQL duration in seconds (`5s`, `500ms`, `1min`); a bare number is milliseconds,
    as PostgreSQL reads `lock_timeout`; empty is 0 (no timeout)."""
    text = (duration or "0").strip()
    m = _DURATION.fullmatch(text)
    if m is None:
        raise ValueError(f"not a PostgreSQL duration: {duration!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "ms"]


def lock_timeout_limit(duration: str) -> str:
    """The timeout as the target gives it, for messages (`none` when it sets 0 or nothing: a
    `NOWAIT` statement times out all the same)."""
    return duration.strip() if postgres_seconds(duration) > 0 else "none"


def lock_timeout_title(subject: str, duration: str) -> str:
    """The one title of a lock timeout, after the retries and outside them (`runner/faults/`)."""
    return f"Migration {subject} could not get a lock within lock_timeout ({lock_timeout_limit(duration)})"


def _seconds(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` more attempts after a lock timeout; `lock_timeout` as the target gives it."""

    retries: int
    lock_timeout: str

    @classmethod
    def of(cls, shared: SharedSettings, override: Optional[int] = None) -> RetryPolicy:
        """The one place the runner reads the policy: the target's (`shared`), or `override`
        (`db-migrate --lock-retries`) when given."""
        retries = shared.lock_retries if override is None else override
        return cls(retries, shared.pg_lock_timeout)

    @property
    def limit(self) -> str:
        """The timeout as the target gives it, for messages (`lock_timeout_limit`)."""
        return lock_timeout_limit(self.lock_timeout)

    @property
    def timeout_seconds(self) -> float:
        return postgres_seconds(self.lock_timeout)

    def nominal_delay(self, retry: int) -> float:
        """The longest pause before retry number `retry` (1 is the first retry)."""
        return min(MAX_DELAY, BASE_DELAY * 2 ** (retry - 1))

    def delay(self, retry: int, rng: random.Random) -> float:
        """The pause before retry number `retry`: between half of its nominal delay and all of it."""
        high = self.nominal_delay(retry)
        return rng.uniform(high / 2, high)

    def schedule(self) -> str:
        """`1-2 s, 2-4 s, ...`: the pauses before each retry, as `--dry-run` shows them."""
        spans = [self.nominal_delay(n) for n in range(1, self.retries + 1)]
        return ", ".join(f"{_seconds(d / 2)}-{_seconds(d)} s" for d in spans)

    def describe(self, per_migration: Optional[bool]) -> str:
        """The policy in one line for `--dry-run`; `per_migration` None: not known yet."""
        if self.timeout_seconds <= 0:
            return (
                "Lock waits: no lock_timeout (the target sets 0): a statement waits for its lock"
                " as long as it takes, and every later query on that table queues behind it"
            )
        head = f"Lock waits: lock_timeout {self.limit} per lock"
        if self.retries <= 0:
            return f"{head}; no retry (lock_retries=0): the first lock timeout stops the run"
        if per_migration is None:
            what = (
                "a revision that times out is rolled back and retried (the whole run, while none"
                " of it has committed, when env.py runs one transaction)"
            )
        elif per_migration:
            what = "a revision that times out is rolled back and retried"
        else:
            what = (
                "a lock timeout rolls back the whole run (one transaction), which is retried"
                " while none of it has committed"
            )
        return f"{head}; {what}, up to {self.retries} times (lock_retries), after {self.schedule()}"

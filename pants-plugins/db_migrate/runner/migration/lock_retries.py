"""Retry a revision that timed out waiting for a lock, instead of stalling traffic or failing.

The component's `lock_timeout` cancels a statement that waited too long for its lock (SQLSTATE
55P03); its transaction is rolled back, so the queries queued behind it go on. Then the run waits
(`retry_policy`: backoff with jitter), says what it waited for and who held it (`lock_waits`),
and runs again from where the database is: with one transaction per revision, the revisions
before it stay applied and the timed-out one runs again; with one transaction for the whole run
(an env.py without `transaction_per_migration`), the whole run again, but only while nothing of
it has committed. A revision that had left its transaction (`autocommit_block()`) is not run
again: what it ran outside stays. After the last retry the error names the holder.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from db_migrate.core import report
from db_migrate.core.report import Problem, ProblemError
from db_migrate.runner.migration.move import continuing_target
from db_migrate.runner.migration.retry_policy import RetryPolicy, lock_timeout_title
from db_migrate.runner.postgres.errors import sqlstate
from db_migrate.runner.postgres.lock_waits import LockWait, LockWaitWatch

LOCK_NOT_AVAILABLE = "55P03"


class LockWaitGaveUp(ProblemError):
    """The lock never came (or a retry was not safe): the problem, what committed, where it is."""

    def __init__(self, problem: Problem, done: Sequence, after: Tuple[str, ...]) -> None:
        super().__init__(problem)
        self.done = tuple(done)
        self.after = tuple(after)


def is_lock_timeout(error: BaseException) -> bool:
    return sqlstate(error) == LOCK_NOT_AVAILABLE


def why_not_retried(
    policy: RetryPolicy, failure, tries: int, before: Sequence[str], after: Sequence[str]
) -> str:
    """Why this lock timeout ends the run ('' when it is retried)."""
    if policy.retries <= 0:
        return "lock_retries is 0: the first lock timeout stops the run"
    if tries > policy.retries:
        return f"it timed out {tries} times, lock_retries ({policy.retries}) retries included"
    if failure.autocommitted:
        return (
            f"{failure.step.revision} ran part of its work outside a transaction"
            " (autocommit_block) before the timeout, and that part stays: running it again would"
            " run it twice"
        )
    if not failure.per_migration and tuple(after) != tuple(before):
        return (
            "part of the run had committed (an autocommit_block in one of its revisions): running"
            " the whole run again would run that part twice"
        )
    return ""


@dataclass
class LockRetries:
    """One migration's retries: the policy, the database it reads back, how it tells the user."""

    policy: RetryPolicy
    component: str
    read_heads: Callable[[], Tuple[str, ...]]
    watch: Callable[[], LockWaitWatch]
    say: Callable[[str], None]
    retry_command: Callable[[Optional[str]], str]  # the command that continues (to a target)
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep
    waits: List[Dict] = field(default_factory=list)  # every lock timeout, for the JSON report

    def run(self, run_once: Callable[[Optional[str]], List], target: str, steps) -> List:
        """`run_once(target)` until it succeeds or a lock timeout may not be retried."""
        from db_migrate.runner.alembic_glue.steps import StepFailed

        start = before = self.read_heads()
        done: List = []
        tries: Dict[str, int] = {}
        goal: Optional[str] = target
        while True:
            with self.watch() as watch:
                try:
                    return done + run_once(goal)
                except StepFailed as failure:
                    if not is_lock_timeout(failure.error):
                        raise _with_earlier(failure, done) from failure.error
                    failed, seen = failure, watch.seen
            after = self.read_heads()
            key = failed.step.revision if failed.per_migration else ""
            tries[key] = tries.get(key, 0) + 1
            if failed.per_migration:
                done += failed.done
            goal = continuing_target(target, steps, moved=tuple(after) != tuple(start))
            why = why_not_retried(self.policy, failed, tries[key], before, after)
            if not why and goal is None:
                why = f"--target={target} counts from where the database was, which has moved"
            self._tell(failed, seen, tries[key], why)
            if why:
                onward = self.retry_command(None if goal in (None, target) else goal)
                problem = lock_wait_problem(
                    self.component, failed, (self.policy, tries[key]), seen, why, after, onward
                )
                raise LockWaitGaveUp(problem, done, after)
            before = after

    def _tell(self, failure, seen: Optional[LockWait], tries: int, why: str) -> None:
        """The timed-out revision's lines: what it waited for, who held it, what happens now."""
        step = failure.step
        rolled = "rolled back" if failure.per_migration else "the whole run was rolled back"
        self.say(
            f"  ✗ {step.revision} timed out waiting for a lock (lock_timeout"
            f" {self.policy.limit}): {rolled}"
        )
        for line in seen.lines() if seen else ("who held the lock was not seen",):
            self.say(f"    {line}")
        delay = 0.0 if why else self.policy.delay(tries, self.rng)
        self.waits.append(_wait_entry(step.revision, tries, seen, delay))
        if why:
            return
        what = "" if failure.per_migration else " of the whole run"
        self.say(
            f"    retry {tries} of {self.policy.retries}{what} in {delay:.1f} s (lock_retries),"
            " the table serves its queries meanwhile"
        )
        self.sleep(delay)


def _with_earlier(failure, done: Sequence):
    """The failure with the revisions committed by earlier attempts in front of its own."""
    if not done:
        return failure
    from db_migrate.runner.alembic_glue.steps import StepFailed

    return StepFailed(
        failure.step, (*done, *failure.done), failure.error, failure.facts, failure.autocommitted
    )


def _wait_entry(revision: str, tries: int, seen: Optional[LockWait], delay: float) -> Dict:
    holder = seen.holder if seen else None
    return {
        "revision": revision,
        "attempt": tries,
        "waiting_for": seen.what() if seen else None,
        "holder": (
            {
                "pid": holder.pid,
                "application": report.mask(holder.application),
                "transaction_seconds": holder.transaction_seconds,
            }
            if holder
            else None
        ),
        "retry_in": round(delay, 3) if delay else None,
    }


def lock_wait_problem(
    component: str, failure, tried: Tuple[RetryPolicy, int], seen, why: str, after, retry: str
) -> Problem:
    """The spec's block for a revision that did not get its lock: the holder named, the state
    read back, and what to do about the holder."""
    policy, tries = tried
    step = failure.step
    limit = policy.limit
    holder = seen.holder if seen else None
    if failure.per_migration:
        where = (
            f"The database is at {report.describe_heads(after)} (checked): the revisions before"
            f" {step.revision} stay applied; {step.revision} and the ones after it did not run."
        )
    else:
        where = (
            "The whole run was rolled back (one transaction): the database is at"
            f" {report.describe_heads(after)} (checked)."
        )
    waited = (
        seen.lines()
        if seen
        else ("Who held the lock was not seen (it was released as the statement was cancelled)",)
    )
    return Problem(
        title=lock_timeout_title(step.revision, policy.lock_timeout),
        details=(
            f"{component}: {step.revision} ({step.message}, {os.path.relpath(step.path)}) waited"
            f" {limit} for a lock {tries} time{'s' if tries != 1 else ''}; each time PostgreSQL"
            " cancelled it and its transaction was rolled back, so the queries queued behind it"
            " could go on",
            *(line[0].upper() + line[1:] for line in waited),
            f"Not retried: {why}",
            where,
        ),
        actions=_actions(holder, policy, retry),
        kind="lock_timeout",
    )


def _actions(holder, policy: RetryPolicy, retry: str) -> Tuple[str, ...]:
    actions = []
    if holder is not None:
        actions += [
            f"See what pid {holder.pid} is doing: SELECT pid, application_name, state, xact_start,"
            f" query FROM pg_stat_activity WHERE pid = {holder.pid};",
            f"Have its application end that transaction, or end the session:"
            f" SELECT pg_terminate_backend({holder.pid});",
        ]
    actions.append(f"Retry when the table is quiet: {retry}")
    actions.append(
        f"Or retry more often: add --lock-retries=N (now {policy.retries}); each try stalls the"
        f" table's queries for at most lock_timeout ({policy.limit})"
    )
    return tuple(actions)

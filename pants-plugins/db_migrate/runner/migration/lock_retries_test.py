from __future__ import annotations

import contextlib
import random
from typing import List, Optional

import pytest

from db_migrate.runner.alembic_glue.env_watch import EnvFacts
from db_migrate.runner.alembic_glue.steps import DoneStep, PlannedStep, StepFailed
from db_migrate.runner.migration.lock_retries import (
    LockRetries,
    LockWaitGaveUp,
    why_not_retried,
)
from db_migrate.runner.migration.move import continuing_target
from db_migrate.runner.migration.retry_policy import RetryPolicy
from db_migrate.runner.postgres.lock_waits import Blocker, LockWait


class LockTimeout(Exception):
    sqlstate = "55P03"


class CheckViolation(Exception):
    sqlstate = "23514"


def step(revision: str, parent: Optional[str], up: bool = True) -> PlannedStep:
    old, new = ((parent,) if parent else (), (revision,))
    if not up:
        old, new = new, old
    return PlannedStep(revision, old, new, f"Step {revision}", f"versions/{revision}_x.py", up)


A, B, C = step("aaa", None), step("bbb", "aaa"), step("ccc", "bbb")
PER_REVISION = EnvFacts(per_migration=True, version_table="alembic_version", ours=True)
ONE_TRANSACTION = EnvFacts(per_migration=False, version_table="alembic_version", ours=True)
HOLDER = LockWait(
    "relation",
    "hot",
    "AccessExclusiveLock",
    (Blocker(4242, "billing-worker", "app", "local", "idle in transaction", 95.0),),
)


def failed(at: PlannedStep, done=(), facts=PER_REVISION, error=None, autocommitted=False):
    return StepFailed(
        at, [DoneStep(s, 0.01) for s in done], error or LockTimeout(), facts, autocommitted
    )


class FakeDatabase:
    """A version table the fake runs move, and the runs to make: each raises or returns."""

    def __init__(self, heads, runs) -> None:
        self.heads = tuple(heads)
        self.runs = list(runs)
        self.targets: List[Optional[str]] = []

    def run_once(self, target):
        self.targets.append(target)
        outcome = self.runs.pop(0)
        if isinstance(outcome, StepFailed):
            if outcome.per_migration and outcome.done:
                self.heads = outcome.done[-1].step.new
            raise outcome
        self.heads = outcome[-1].new
        return [DoneStep(s, 0.01) for s in outcome]


class SeenWatch:
    def __init__(self, seen) -> None:
        self.seen = seen

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def retries(db: FakeDatabase, policy: RetryPolicy, seen=HOLDER):
    said, slept = [], []
    runner = LockRetries(
        policy,
        "manager",
        read_heads=lambda: db.heads,
        watch=lambda: SeenWatch(seen),
        say=said.append,
        retry_command=lambda target: f"RETRY {target or 'as given'}",
        rng=random.Random(7),
        sleep=slept.append,
    )
    return runner, said, slept


def test_a_revision_that_timed_out_runs_again_after_a_pause_and_the_run_goes_on():
    db = FakeDatabase((), [failed(B, done=[A]), failed(B), [B, C]])
    runner, said, slept = retries(db, RetryPolicy(3, "1s"))
    done = runner.run(db.run_once, "head", [A, B, C])
    assert [d.step.revision for d in done] == ["aaa", "bbb", "ccc"]
    assert db.targets == ["head", "head", "head"]
    assert len(slept) == 2 and 1 <= slept[0] <= 2 and 2 <= slept[1] <= 4
    text = "\n".join(said)
    assert "  ✗ bbb timed out waiting for a lock (lock_timeout 1s): rolled back" in said
    assert "    waiting for: ACCESS EXCLUSIVE lock on hot" in said
    assert "held by pid 4242 (application 'billing-worker'" in text
    assert "in a transaction for 1 min 35 s" in text
    assert "retry 1 of 3 in" in text and "retry 2 of 3 in" in text
    assert [w["attempt"] for w in runner.waits] == [1, 2]
    assert runner.waits[0]["holder"]["pid"] == 4242


def test_after_the_last_retry_the_error_names_the_holder_and_what_stays_applied():
    db = FakeDatabase((), [failed(B, done=[A]), failed(B), failed(B)])
    runner, said, slept = retries(db, RetryPolicy(2, "1s"))
    with pytest.raises(LockWaitGaveUp) as raised:
        runner.run(db.run_once, "head", [A, B, C])
    gave_up = raised.value
    assert len(slept) == 2
    assert [d.step.revision for d in gave_up.done] == ["aaa"] and gave_up.after == ("aaa",)
    problem = gave_up.problem
    assert problem.kind == "lock_timeout"
    assert problem.title == "Migration bbb could not get a lock within lock_timeout (1s)"
    text = problem.render()
    assert "waited 1s for a lock 3 times" in text
    assert "Held by pid 4242 (application 'billing-worker'" in text
    assert "Not retried: it timed out 3 times, lock_retries (2) retries included" in text
    assert "The database is at aaa (checked): the revisions before bbb stay applied" in text
    assert "SELECT pg_terminate_backend(4242);" in text
    assert "Retry when the table is quiet: RETRY as given" in text


def test_no_retries_means_the_first_timeout_ends_the_run():
    db = FakeDatabase((), [failed(A)])
    runner, said, slept = retries(db, RetryPolicy(0, "1s"))
    with pytest.raises(LockWaitGaveUp) as raised:
        runner.run(db.run_once, "head", [A, B])
    assert slept == [] and "lock_retries is 0" in raised.value.problem.render()


def test_one_transaction_for_the_run_retries_the_whole_run_when_nothing_committed():
    db = FakeDatabase(("aaa",), [failed(C, done=[B], facts=ONE_TRANSACTION), [B, C]])
    runner, said, slept = retries(db, RetryPolicy(2, "1s"))
    done = runner.run(db.run_once, "head", [B, C])
    assert [d.step.revision for d in done] == ["bbb", "ccc"]  # the rolled-back bbb only once
    assert "the whole run was rolled back" in said[0]
    assert any("retry 1 of 2 of the whole run" in line for line in said)


def test_one_transaction_for_the_run_is_not_retried_once_part_of_it_committed():
    class Committing(FakeDatabase):
        def run_once(self, target):
            self.heads = ("bbb",)  # an autocommit_block committed bbb before ccc timed out
            return super().run_once(target)

    db = Committing(("aaa",), [failed(C, done=[B], facts=ONE_TRANSACTION)])
    runner, said, slept = retries(db, RetryPolicy(5, "1s"))
    with pytest.raises(LockWaitGaveUp) as raised:
        runner.run(db.run_once, "head", [B, C])
    assert slept == []
    assert "Not retried: part of the run had committed" in raised.value.problem.render()
    assert "The whole run was rolled back (one transaction)" in raised.value.problem.render()


def test_a_revision_that_left_its_transaction_is_not_run_twice():
    db = FakeDatabase((), [failed(A, autocommitted=True)])
    runner, said, slept = retries(db, RetryPolicy(5, "1s"))
    with pytest.raises(LockWaitGaveUp) as raised:
        runner.run(db.run_once, "head", [A])
    assert slept == [] and "autocommit_block" in raised.value.problem.render()


def test_another_error_on_a_retry_keeps_what_earlier_attempts_committed():
    db = FakeDatabase((), [failed(B, done=[A]), failed(C, done=[B], error=CheckViolation())])
    runner, said, slept = retries(db, RetryPolicy(3, "1s"))
    with pytest.raises(StepFailed) as raised:
        runner.run(db.run_once, "head", [A, B, C])
    assert not isinstance(raised.value, LockWaitGaveUp)
    assert [d.step.revision for d in raised.value.done] == ["aaa", "bbb"]
    assert isinstance(raised.value.error, CheckViolation)


def test_a_relative_target_is_not_counted_again_from_where_the_retry_starts():
    db = FakeDatabase((), [failed(B, done=[A]), [B]])
    runner, said, slept = retries(db, RetryPolicy(3, "1s"))
    runner.run(db.run_once, "+2", [A, B])
    assert db.targets == ["+2", "bbb"]


def test_a_holder_that_was_not_seen_is_said_so():
    db = FakeDatabase((), [failed(A)])
    runner, said, slept = retries(db, RetryPolicy(0, "1s"), seen=None)
    with pytest.raises(LockWaitGaveUp) as raised:
        runner.run(db.run_once, "head", [A])
    assert "    who held the lock was not seen" in said
    assert "pg_terminate_backend" not in raised.value.problem.render()


def test_where_a_retry_goes():
    """The retry's target is `continuing_target`'s: as given until the database moved."""
    up, down = [A, B], [step("bbb", "aaa", up=False), step("aaa", None, up=False)]
    assert continuing_target("head", up, moved=False) == "head"
    assert continuing_target("+2", up, moved=False) == "+2"  # nothing moved yet: as given
    assert continuing_target("+2", up, moved=True) == "bbb"
    assert continuing_target("bbb", up, moved=True) == "bbb"
    assert continuing_target("-2", down, moved=True) == "base"
    assert continuing_target("aaa@+1", up, moved=True) == "bbb"
    merge_down = [PlannedStep("mmm", ("mmm",), ("x", "y"), "Merge", "m.py", False)]
    assert continuing_target("-1", merge_down, moved=True) is None


def test_why_a_timeout_is_not_retried():
    policy = RetryPolicy(2, "1s")
    assert why_not_retried(policy, failed(A), 1, (), ()) == ""
    assert why_not_retried(policy, failed(A), 2, (), ()) == ""
    assert "3 times" in why_not_retried(policy, failed(A), 3, (), ())
    one_run = failed(B, done=[A], facts=ONE_TRANSACTION)
    assert why_not_retried(policy, one_run, 1, (), ()) == ""
    assert "committed" in why_not_retried(policy, one_run, 1, (), ("aaa",))
    per_revision = failed(B, done=[A])
    assert why_not_retried(policy, per_revision, 1, (), ("aaa",)) == ""


def test_a_real_watch_is_stopped_when_the_attempt_ends():
    stopped = []

    @contextlib.contextmanager
    def watch():
        try:
            yield SeenWatch(HOLDER)
        finally:
            stopped.append(True)

    db = FakeDatabase((), [failed(A), [A]])
    runner, said, slept = retries(db, RetryPolicy(1, "1s"))
    runner.watch = watch
    runner.run(db.run_once, "head", [A])
    assert stopped == [True, True]

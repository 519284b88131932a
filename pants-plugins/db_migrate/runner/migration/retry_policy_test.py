from __future__ import annotations

import random

import pytest

from db_migrate.core.contract import SharedSettings
from db_migrate.runner.migration.retry_policy import (
    BASE_DELAY,
    MAX_DELAY,
    RetryPolicy,
    postgres_seconds,
)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("5s", 5.0),
        ("500ms", 0.5),
        ("1min", 60.0),
        ("2h", 7200.0),
        (" 5 s ", 5.0),
        ("1500us", 0.0015),
        ("30", 0.03),  # a bare number is milliseconds, as PostgreSQL reads lock_timeout
        ("0", 0.0),
        ("", 0.0),
    ],
)
def test_postgres_durations_in_seconds(text, seconds):
    assert postgres_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5 seconds", "-1s", "s", "1e3ms"])
def test_a_duration_postgres_would_not_read_is_refused(text):
    with pytest.raises(ValueError):
        postgres_seconds(text)


def test_the_pauses_double_up_to_the_cap():
    policy = RetryPolicy(retries=10, lock_timeout="5s")
    nominal = [policy.nominal_delay(n) for n in range(1, 11)]
    assert nominal[:5] == [BASE_DELAY * 2**i for i in range(5)]
    assert max(nominal) == MAX_DELAY and nominal[-1] == MAX_DELAY
    assert nominal == sorted(nominal)


def test_each_pause_is_drawn_from_the_upper_half_of_its_range():
    policy = RetryPolicy(retries=8, lock_timeout="1s")
    for seed in range(200):
        rng = random.Random(seed)
        for n in range(1, 9):
            high = policy.nominal_delay(n)
            assert high / 2 <= policy.delay(n, rng) <= high


def test_two_runners_do_not_retry_in_step():
    policy = RetryPolicy(retries=3, lock_timeout="1s")
    first = [policy.delay(1, random.Random(seed)) for seed in range(50)]
    assert len({round(d, 6) for d in first}) == 50  # jitter: no two seeds agree
    assert max(first) - min(first) > BASE_DELAY / 4  # and they spread over the range


def test_the_schedule_as_dry_run_shows_it():
    assert RetryPolicy(3, "5s").schedule() == "1-2 s, 2-4 s, 4-8 s"
    assert RetryPolicy(7, "5s").schedule().endswith("16-32 s, 30-60 s, 30-60 s")


def test_the_policy_in_words_for_each_transaction_mode():
    per_revision = RetryPolicy(2, "5s").describe(True)
    assert per_revision == (
        "Lock waits: lock_timeout 5s per lock; a revision that times out is rolled back and"
        " retried, up to 2 times (lock_retries), after 1-2 s, 2-4 s"
    )
    whole_run = RetryPolicy(2, "5s").describe(False)
    assert "rolls back the whole run (one transaction)" in whole_run
    assert "while none of it has committed" in whole_run and "up to 2 times" in whole_run
    unknown = RetryPolicy(2, "5s").describe(None)
    assert "when env.py runs one transaction" in unknown
    assert "no retry (lock_retries=0)" in RetryPolicy(0, "5s").describe(True)
    assert "no lock_timeout" in RetryPolicy(5, "0").describe(True)


def test_the_plan_gives_the_policy():
    shared = SharedSettings(lock_retries=2, pg_lock_timeout="1s")
    assert RetryPolicy.of(shared) == RetryPolicy(2, "1s")
    assert RetryPolicy.of(shared, override=0) == RetryPolicy(0, "1s")
    assert RetryPolicy.of(SharedSettings()).retries == 5


def test_a_timeout_the_target_does_not_set_is_named_as_none():
    assert RetryPolicy(5, "5 s").limit == "5 s"
    assert RetryPolicy(5, "0").limit == RetryPolicy(5, "").limit == "none"

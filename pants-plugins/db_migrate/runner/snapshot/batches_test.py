"""How a snapshot's entries are cut into transactions that fit the server's lock table (pure)."""

from __future__ import annotations

from db_migrate.runner.snapshot.batches import transactions
from db_migrate.runner.snapshot.toc import Entry


def _entries(pattern: str):
    """`L` an entry that locks a relation, `-` one that does not."""
    return [Entry(f"{i}; 0 0 X", kind == "L") for i, kind in enumerate(pattern)]


def test_all_in_one_transaction_when_the_locks_fit():
    entries = _entries("L-LL-")
    assert transactions(entries, 3) == [tuple(entries)]


def test_runs_keep_the_dump_order_and_stay_within_the_budget():
    entries = _entries("-LL-L-LLLL")
    runs = transactions(entries, 2)
    assert [e for run in runs for e in run] == entries
    assert [sum(e.locks for e in run) for run in runs] == [2, 2, 2, 1]
    # What locks nothing goes with the run before it: "-LL-" "L-L" "LL" "L".
    assert [len(run) for run in runs] == [4, 3, 2, 1]


def test_an_empty_snapshot_is_one_empty_transaction():
    assert transactions([], 10) == [()]

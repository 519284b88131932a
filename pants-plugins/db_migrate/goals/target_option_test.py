"""`--target` syntax: the range split that `--sql` uses."""

from __future__ import annotations

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.goals.target_option import TargetSyntaxError, split_range


@pytest.mark.parametrize(
    "target, ends",
    [
        ("head", ("head",)),
        ("base:head", ("base", "head")),
        ("release:24.09.0", ("release:24.09.0",)),
        ("release:24.09.0:head", ("release:24.09.0", "head")),
        ("ddc0ecaca3e9:release:25.03.0", ("ddc0ecaca3e9", "release:25.03.0")),
        ("release:a:release:b", ("release:a", "release:b")),
    ],
)
def test_a_range_splits_into_two_targets_keeping_release_pins_whole(target, ends):
    assert split_range(target) == ends


def test_more_than_two_ends_is_a_syntax_error():
    with pytest.raises(TargetSyntaxError) as e:
        split_range("base:abc:head")
    assert e.value.problem.title == "Invalid target 'base:abc:head'"

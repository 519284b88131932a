"""The command that finishes a run which stopped part-way goes where the user meant."""

from __future__ import annotations

from typing import Sequence

import pytest

from db_migrate.runner.alembic_glue.steps import PlannedStep
from db_migrate.runner.migration.move import continuing_target


def ending_at(destination: Sequence[str]) -> list:
    """A planned run whose last step leaves the database at `destination`."""
    return [PlannedStep("x", ("w",), tuple(destination), "Last", "versions/x.py", True)]


@pytest.mark.parametrize(
    "target, destination, expected",
    [
        ("head", ("fa17fa17fa17",), "head"),
        ("base", (), "base"),
        ("0deb1ff2f24a", ("0deb1ff2f24a",), "0deb1ff2f24a"),
        ("release:25.03.0", ("0deb1ff2f24a",), "release:25.03.0"),
        # Counted from the database's revision: after a partial run, counted again from elsewhere.
        ("-1", ("0deb1ff2f24a",), "0deb1ff2f24a"),
        ("-3", (), "base"),
        ("+2", ("ec781d9e4573",), "ec781d9e4573"),
        ("ac29778c6bf9+2", ("7b5b2b943b56",), "7b5b2b943b56"),
        ("users@+1", ("1532e3f065e6",), "1532e3f065e6"),
        ("-1", ("aaaaaaaaaaaa", "bbbbbbbbbbbb"), None),  # a merge reverted: no one revision
    ],
)
def test_a_relative_target_is_made_absolute_once_the_database_moved(target, destination, expected):
    assert continuing_target(target, ending_at(destination)) == expected


@pytest.mark.parametrize("target", ["+2", "-1", "users@+1", "head"])
def test_a_target_is_kept_while_the_database_has_not_moved(target):
    assert continuing_target(target, ending_at(("0deb1ff2f24a",)), moved=False) == target

"""The command that continues after a fault goes where the user meant, wherever the run stopped."""

from __future__ import annotations

import pytest

from db_migrate.runner.faults.scene import absolute_target


@pytest.mark.parametrize(
    "label, destination, expected",
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
        ("+1", ("aaaaaaaaaaaa", "bbbbbbbbbbbb"), "+1"),  # two heads: no one revision to name
    ],
)
def test_a_relative_target_is_made_absolute(label, destination, expected):
    assert absolute_target(label, destination) == expected

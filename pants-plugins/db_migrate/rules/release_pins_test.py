"""Release pins in both formats: `RELEASE = REVISION` lines and revision_history/*.json."""

from __future__ import annotations

import json

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.rules.release_pins import (
    ReleasePinsError,
    in_release_order,
    parse_release_pins,
    parse_revision_history,
)

PATH = "models/alembic/revision_history/24.09.8.json"


def history(*entries) -> str:
    return json.dumps({"manager_version": "24.09.8", "revisions": list(entries)})


def test_the_head_entry_is_the_pin():
    text = history(
        {"revision": "aaa", "down_revision": None, "is_head": False},
        {"revision": "bbb", "down_revision": "aaa", "is_head": True},
    )
    assert parse_revision_history(PATH, text) == ("24.09.8", "bbb")


@pytest.mark.parametrize(
    "text, why",
    [
        ("{", "not valid JSON"),
        ("[]", "expected an object with a `revisions` list"),
        (history({"revision": "aaa", "is_head": False}), "no entry with is_head"),
        (
            history({"revision": "aaa", "is_head": True}, {"revision": "bbb", "is_head": True}),
            "2 entries with is_head (aaa, bbb)",
        ),
        (history({"revision": 12, "is_head": True}), "no revision id"),
        (history({"revision": "aaa", "is_head": "yes"}), "no entry with is_head"),
    ],
)
def test_bad_files_name_themselves_and_what_is_wrong(text, why):
    with pytest.raises(ReleasePinsError) as e:
        parse_revision_history(PATH, text)
    assert str(e.value).startswith(PATH) and why in str(e.value)


def test_releases_are_ordered_as_versions_not_as_text():
    pins = [("24.09.10", "c"), ("24.09.8", "b"), ("25.03.0", "d"), ("24.03.0", "a")]
    assert [name for name, _ in in_release_order(pins)] == [
        "24.03.0",
        "24.09.8",
        "24.09.10",
        "25.03.0",
    ]


def test_the_line_format_keeps_file_order_and_refuses_duplicates():
    assert parse_release_pins("p", "# c\n2 = b\n1 = a\n") == (("2", "b"), ("1", "a"))
    with pytest.raises(ReleasePinsError, match="pinned twice"):
        parse_release_pins("p", "1 = a\n1 = b\n")

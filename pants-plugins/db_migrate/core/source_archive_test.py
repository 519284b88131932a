from __future__ import annotations

from db_migrate.core.source_archive import pack, unpack

FILES = [
    ("services/billing/migrations/versions/b_two.py", b"revision = 'b'\n"),
    (
        "services/billing/migrations/versions/a_one.py",
        "# coding: latin-1\nx = '\xe9'\n".encode("latin-1"),
    ),
    ("services/billing/migrations/versions/c_nul.py", b"x = 1\x00\r\n"),
]


def test_every_path_and_byte_comes_back_as_given():
    assert unpack(pack(FILES)) == dict(FILES)


def test_the_same_files_in_any_order_give_the_same_archive():
    """The check's cache key is the archive's digest: it must depend on the files alone."""
    assert pack(FILES) == pack(reversed(FILES))
    assert pack(FILES) != pack([*FILES[:2], (FILES[2][0], b"x = 2\n")])

"""What a cached process may see of the repo's files: nothing that holds a database URL.

A cached `Process` stores its inputs' digests in the cache key and may upload them to a remote
cache; the ini files in its sandbox must therefore not carry `sqlalchemy.url` (which holds the
development password, or worse). Processes that talk to a database of their own (db-verify)
never need the ini's URL; everything else in the ini (script_location, version_table, the
user's own options) stays byte for byte. Pure, so it is easy to test.
"""

from __future__ import annotations

import re

_URL_OPTION = re.compile(r"^\s*sqlalchemy\.url\s*[=:]", re.IGNORECASE)
_CONTINUATION = re.compile(r"^[ \t]+\S")  # configparser: an indented line continues the value


def without_database_urls(text: str) -> str:
    """The ini text with every `sqlalchemy.url` option (and its continuation lines) removed."""
    kept = []
    in_url = False
    for line in text.splitlines(keepends=True):
        if _URL_OPTION.match(line):
            in_url = True
            continue
        if in_url and _CONTINUATION.match(line):
            continue
        in_url = False
        kept.append(line)
    return "".join(kept)

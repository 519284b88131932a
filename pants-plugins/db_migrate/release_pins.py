"""Release pins: which revision each release shipped, so release engineers can say `release:24.09.8`.

A component's pins file has one `RELEASE = REVISION` per line; `#` starts a comment. Pure and
dependency-free (Pants and the runner both read pins).
"""

from __future__ import annotations

import re
from typing import Tuple

_LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._+-]*)\s*=\s*(?P<revision>[A-Za-z0-9_]+)\s*$")


class ReleasePinsError(Exception):
    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def parse_release_pins(path: str, text: str) -> Tuple[Tuple[str, str], ...]:
    """(release, revision) pairs in file order; the file order is the release order."""
    pins = []
    seen = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LINE.match(line)
        if not m:
            raise ReleasePinsError(
                path, number, f"expected `RELEASE = REVISION`, got `{raw.strip()}`"
            )
        name = m.group("name")
        if name in seen:
            raise ReleasePinsError(
                path, number, f"release {name} is pinned twice (first on line {seen[name]})"
            )
        seen[name] = number
        pins.append((name, m.group("revision")))
    return tuple(pins)

"""Release pins: which revision each release shipped, so release engineers can say `release:24.09.8`.

Two formats. A pins file has one `RELEASE = REVISION` per line (`#` starts a comment), in release
order. A `revision_history/` folder, as Backend.AI keeps it, has one `<release>.json` per release
listing that release's revisions; the pinned one is the entry with `is_head`, and releases are
ordered by version. Pure and dependency-free (Pants and the runner both read pins).
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Iterable, Optional, Tuple

_LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._+-]*)\s*=\s*(?P<revision>[A-Za-z0-9_]+)\s*$")


class ReleasePinsError(Exception):
    def __init__(self, path: str, line: Optional[int], message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
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


def parse_revision_history(path: str, text: str) -> Tuple[str, str]:
    """(release, pinned revision) of one `revision_history/<release>.json`."""
    release = posixpath.basename(path)[: -len(".json")]
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ReleasePinsError(path, getattr(e, "lineno", None), f"not valid JSON: {e}") from None
    entries = data.get("revisions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ReleasePinsError(path, None, "expected an object with a `revisions` list")
    heads = [e for e in entries if isinstance(e, dict) and e.get("is_head") is True]
    if len(heads) != 1:
        named = ", ".join(str(h.get("revision")) for h in heads)
        why = "no entry with is_head: true" if not heads else f"{len(heads)} entries with is_head"
        raise ReleasePinsError(
            path,
            None,
            f"{why}{' (' + named + ')' if named else ''}; a release pins exactly one head revision",
        )
    revision = heads[0].get("revision")
    if not isinstance(revision, str) or not re.fullmatch(r"[A-Za-z0-9_]+", revision):
        raise ReleasePinsError(path, None, f"the is_head entry has no revision id ({revision!r})")
    return release, revision


def _version_key(release: str) -> tuple:
    """`24.09.8` < `24.09.10` < `25.03.0`: numbers compare as numbers, other parts as text."""
    return tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-+_]", release)
    )


def in_release_order(pins: Iterable[Tuple[str, str]]) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted(pins, key=lambda pin: _version_key(pin[0])))

"""Read what the goals need from an Alembic ini file, without Alembic.

Pure and dependency-free: Pants (3.9) uses it for static checks and the runner (3.11) uses it to
find the database URL without paying for Alembic's import on a no-op run.
"""

from __future__ import annotations

import configparser
import posixpath
from dataclasses import dataclass
from typing import Optional


class AlembicIniError(Exception):
    """The ini file is missing, unreadable or lacks what Alembic needs."""


@dataclass(frozen=True)
class AlembicIni:
    path: str
    script_location: str  # relative to the directory the ini's `%(here)s` names
    url: Optional[str]
    version_table: str

    def script_dir(self) -> str:
        """The script directory relative to the build root (the ini's own directory is `here`)."""
        return posixpath.normpath(
            posixpath.join(posixpath.dirname(self.path), self.script_location)
        )


_HERE = "\x00here\x00"


def parse_alembic_ini(path: str, text: str, section: str = "alembic") -> AlembicIni:
    """Parse `text` (the content of `path`, relative to the build root).

    `%(here)s` is kept symbolic so the result does not depend on where the repo is checked out.
    """
    parser = configparser.ConfigParser(defaults={"here": _HERE})
    try:
        parser.read_string(text, source=path)
    except configparser.Error as e:
        raise AlembicIniError(f"{path} is not a valid ini file: {e}") from None
    if not parser.has_section(section):
        raise AlembicIniError(f"{path} has no [{section}] section")
    try:
        location = parser.get(section, "script_location", fallback=None)
        url = parser.get(section, "sqlalchemy.url", fallback=None)
        version_table = parser.get(section, "version_table", fallback="alembic_version")
    except configparser.Error as e:
        raise AlembicIniError(f"{path}: {e}") from None
    if not location or not location.strip():
        raise AlembicIniError(f"{path} has no `script_location` in its [{section}] section")
    location = location.strip()
    if ":" in location and not location.startswith(_HERE):
        raise AlembicIniError(
            f"{path} names its scripts as a package resource (`{location}`); "
            "use a path (`%(here)s/path/to/alembic`) so Pants can find the files"
        )
    location = location.replace(_HERE + "/", "").replace(_HERE, ".")
    if posixpath.isabs(location):
        raise AlembicIniError(
            f"{path} has an absolute `script_location` ({location}); "
            "use a path relative to `%(here)s`"
        )
    return AlembicIni(
        path=path,
        script_location=location,
        url=(url.replace(_HERE, ".").strip() or None) if url else None,
        version_table=version_table.strip() or "alembic_version",
    )

"""Read what the goals need from an Alembic ini file, without Alembic.

Pure and dependency-free: Pants (3.9) uses it for static checks and the runner (3.11) uses it to
find the database URL without paying for Alembic's import on a no-op run.
"""

from __future__ import annotations

import configparser
import posixpath
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple


class AlembicIniError(Exception):
    """The ini file is missing, unreadable or lacks what Alembic needs."""


HERE = "here"  # `%(here)s/path`: relative to the ini's own folder
PACKAGE = "package"  # `package.sub:dir`: a directory inside an importable package
PATH = "path"  # `path/to/dir`: relative to the working directory, which for us is the build root


@dataclass(frozen=True)
class ScriptLocation:
    """`script_location` in one of the three forms Alembic accepts, kept symbolic so the result
    does not depend on where the repo is checked out."""

    kind: str
    value: str  # HERE: relative to the ini's folder; PACKAGE: `pkg.sub:dir`; PATH: relative path

    @property
    def package(self) -> str:
        return self.value.split(":", 1)[0]

    @property
    def resource(self) -> str:
        # Alembic splits on ':' and uses the first two parts.
        return self.value.split(":")[1]

    def candidates(self, source_roots: Iterable[str]) -> Tuple[str, ...]:
        """Where a PACKAGE location may live: one directory per source root (build-root relative)."""
        inside = posixpath.join(*self.package.split("."), self.resource)
        return tuple(posixpath.normpath(posixpath.join(root, inside)) for root in source_roots)

    def describe(self) -> str:
        return {HERE: f"%(here)s/{self.value}", PACKAGE: self.value, PATH: self.value}[self.kind]


@dataclass(frozen=True)
class AlembicIni:
    path: str
    location: ScriptLocation
    url: Optional[str]
    version_table: str

    @property
    def script_location(self) -> str:
        return self.location.describe()

    def script_dir(self, source_roots: Iterable[str] = ()) -> Optional[str]:
        """The script directory relative to the build root; for a package resource the first
        candidate in `source_roots` that `exists` accepts is chosen by the caller, so None."""
        if self.location.kind == HERE:
            return posixpath.normpath(
                posixpath.join(posixpath.dirname(self.path), self.location.value)
            )
        if self.location.kind == PATH:
            return posixpath.normpath(self.location.value)
        return None


_HERE = "\x00here\x00"


def _location(path: str, raw: str) -> ScriptLocation:
    raw = raw.strip()
    if raw.startswith(_HERE):
        return ScriptLocation(HERE, raw[len(_HERE) :].lstrip("/") or ".")
    if _HERE in raw:
        raise AlembicIniError(f"{path}: `%(here)s` may only start `script_location` (got `{raw}`)")
    if posixpath.isabs(raw):
        raise AlembicIniError(
            f"{path} has an absolute `script_location` ({raw}); use `%(here)s/path`, a path "
            "relative to the build root, or a package resource (`package.module:dir`)"
        )
    if ":" in raw:
        package = raw.split(":", 1)[0]
        if not package or not all(part.isidentifier() for part in package.split(".")):
            raise AlembicIniError(
                f"{path}: `script_location = {raw}` is a package resource, and `{package}` is "
                "not a Python package name (expected `package.module:dir`)"
            )
        if not raw.split(":")[1].strip("/"):
            raise AlembicIniError(f"{path}: `script_location = {raw}` names no directory after `:`")
        return ScriptLocation(PACKAGE, raw)
    return ScriptLocation(PATH, raw)


def parse_alembic_ini(path: str, text: str, section: str = "alembic") -> AlembicIni:
    """Parse `text` (the content of `path`, relative to the build root)."""
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
    return AlembicIni(
        path=path,
        location=_location(path, location),
        url=(url.replace(_HERE, ".").strip() or None) if url else None,
        version_table=version_table.strip() or "alembic_version",
    )

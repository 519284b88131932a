"""Write files into the user's workspace, not only into the runner's sandbox.

The runner works in a sandbox copy of the component (its cwd mirrors the build root), so Alembic
generates files there. What the user must keep (a new revision, a rebased one) is written to the
same relative path under the build root (`plan.buildroot`), and the sandbox copy is kept in step
so a later Alembic call in the same run sees the new history. Writes are atomic (temp file and
rename) and refuse to clobber: a new file must not exist, a changed file must still hold what
the run read.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from db_migrate.core.report import Problem, ProblemError


@dataclass(frozen=True)
class WrittenFile:
    path: str  # relative to the build root
    created: bool
    note: str = ""


# What a folder of ours in the workspace holds, so that no repository's git sees its content.
GITIGNORE = "# Created by pants-db-migrate: nothing in this folder belongs in git.\n*\n"


def git_ignored_folder(path: Path, mode: int = 0o777) -> Path:
    """A folder the plugin keeps its own files in (the development server's data, backups).

    Made with a `.gitignore` that ignores everything in it, as pytest does for its cache: git
    ignores it in any repository, whatever that repository's own `.gitignore` says. A folder
    that already exists is the user's to manage and is left as it is.
    """
    try:
        path.mkdir(mode=mode, parents=True)
    except FileExistsError:
        return path
    (path / ".gitignore").write_text(GITIGNORE)
    return path


def sandbox_relpath(path: str) -> str:
    """A path the sandbox's Alembic produced, relative to the sandbox root (= build root layout)."""
    return os.path.relpath(os.path.abspath(path), os.getcwd())


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _drop_bytecode(target)


def _drop_bytecode(source: Path) -> None:
    """A rewrite may keep the size and the mtime second: never let Python load the old bytecode."""
    try:
        cached = Path(importlib.util.cache_from_source(str(source)))
    except (NotImplementedError, ValueError):
        return
    if cached.exists():
        cached.unlink()


def workspace_changed(path: str, why: str) -> Problem:
    return Problem(
        title="Workspace file changed during the run",
        details=(f"{path}: {why}", "Nothing was written."),
        actions=("Save or stash your edits, then rerun the command",),
        kind="workspace_changed",
    )


def write_new(buildroot: str, relpath: str, text: str, *, in_sandbox: bool = True) -> WrittenFile:
    """Create `relpath` under the build root (and in the sandbox); it must not exist yet."""
    target = Path(buildroot) / relpath
    if target.exists():
        raise ProblemError(workspace_changed(relpath, "a file with this name already exists"))
    _atomic_write(target, text)
    if in_sandbox:
        _atomic_write(Path(relpath), text)
    return WrittenFile(relpath, created=True)


def check_unchanged(buildroot: str, relpath: str, expected: str) -> None:
    """Raise unless the workspace still holds `expected` at `relpath` (what the sandbox was made from)."""
    target = Path(buildroot) / relpath
    try:
        current: Optional[str] = target.read_text(encoding="utf-8")
    except OSError:
        current = None
    if current is None:
        raise ProblemError(workspace_changed(relpath, "the file is gone from the workspace"))
    if current != expected:
        raise ProblemError(workspace_changed(relpath, "the file was edited since Pants read it"))


def rewrite(buildroot: str, relpath: str, old: str, new: str, note: str = "") -> WrittenFile:
    """Replace `relpath`'s content `old` by `new`, in the workspace and in the sandbox."""
    check_unchanged(buildroot, relpath, old)
    _atomic_write(Path(buildroot) / relpath, new)
    _atomic_write(Path(relpath), new)
    return WrittenFile(relpath, created=False, note=note)

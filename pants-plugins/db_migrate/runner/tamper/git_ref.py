"""What git says: the revision files on the shared branch (they are released), and the
workspace's commit (recorded with an accepted edit).

`db-rebase` never edits released files, and `db-migrate` refuses an edit of one that a database
applied unless it was accepted as reviewed.
"""

from __future__ import annotations

import subprocess
from typing import Collection, Optional, Tuple


def files_at_ref(
    buildroot: str, ref: str, directories: Collection[str]
) -> Tuple[Optional[set], Optional[str]]:
    """The paths (relative to the build root) under `directories` in git's `ref`, or why not."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=buildroot, capture_output=True, text=True)

    try:
        inside = git("rev-parse", "--is-inside-work-tree")
    except FileNotFoundError:
        return None, "git is not installed (or not on PATH)"
    if inside.returncode != 0:
        return None, f"{buildroot} is not in a git repository"
    if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        return None, f"git knows no `{ref}` (the --base-ref)"
    listing = git("ls-tree", "-r", "--name-only", ref, "--", *sorted(directories))
    if listing.returncode != 0:
        return None, f"git ls-tree {ref} failed: {listing.stderr.strip()}"
    return {line.strip() for line in listing.stdout.splitlines() if line.strip()}, None


def workspace_commit(buildroot: str, paths: Collection[str]) -> Tuple[str, Optional[bool]]:
    """(the workspace's HEAD commit, whether `paths` are as committed there): ("", None) when git
    cannot tell, (commit, None) when it cannot say about the files."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=buildroot,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        return "", None
    commit = head.stdout.strip()
    if head.returncode != 0 or not commit:
        return "", None
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", *sorted(paths)],
        cwd=buildroot,
        capture_output=True,
        text=True,
    )
    if status.returncode != 0:
        return commit, None
    return commit, not status.stdout.strip()

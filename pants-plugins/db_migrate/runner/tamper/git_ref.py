"""What git's shared branch holds: the revision files that are on it are released.

`db-rebase` never edits them, and `db-migrate` refuses an edit of one that a database applied.
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

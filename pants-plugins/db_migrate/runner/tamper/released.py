"""Which revisions are released, so tamper detection knows your own work in progress.

A revision is released when a release pin includes it (the pin or anything it builds on) or when
its file is on the shared branch (`--base-ref`, as git names it). An applied revision whose file
changed is then an error (never edit a released migration); any other is the developer's own
revision, edited between a downgrade and an upgrade: a warning. Git is asked only when some
applied file changed; when it cannot answer, only the pins count, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Collection, Dict, Optional, Sequence, Tuple

from db_migrate.core import report
from db_migrate.core.applied import ancestor_counts, applied_revisions
from db_migrate.core.contract import DEFAULT_BASE_REF, RunnerPlan
from db_migrate.core.revision_file import Revision
from db_migrate.runner.tamper.git_ref import files_at_ref


def first_release(revisions: Sequence[Revision], pins: Sequence[Tuple[str, str]]) -> Dict[str, str]:
    """Each pinned revision (pins and their ancestors) with the oldest release that has it (pure)."""
    released: Dict[str, str] = {}
    for name, pin in pins:
        for revision in applied_revisions(revisions, [pin]):
            released.setdefault(revision, name)
    return released


@dataclass(frozen=True)
class Releases:
    pinned: Dict[str, str]  # revision -> the oldest release that includes it
    base_ref: str
    on_base: Optional[Collection[str]]  # paths on the base ref; None: git cannot tell
    why_no_git: str = ""

    def released_because(self, revision: str, path: str) -> Optional[str]:
        """Why `revision` is released (`in release 25.03.0`, `its file is on main`), else None."""
        if revision in self.pinned:
            return f"in release {self.pinned[revision]}"
        if self.on_base is not None and path in self.on_base:
            return f"its file is on {self.base_ref}"
        return None

    def unreleased_means(self) -> str:
        """What "not released" was checked against, for the warning."""
        if self.on_base is None:
            return "in no release pin"
        return f"in no release pin, not on {self.base_ref}"

    def note(self) -> Optional[str]:
        """When git could not answer: what was decided without it."""
        if self.on_base is not None:
            return None
        return (
            f"git cannot tell which revisions are on {self.base_ref} ({self.why_no_git}):"
            " only release pins count as released"
        )


def releases(
    plan: RunnerPlan, paths: Collection[str], pins: Sequence[Tuple[str, str]], base_ref: str
) -> Releases:
    """The releases of `plan`'s component (`pins`: (release, revision), oldest first), asking git
    about the folders of `paths` only."""
    base_ref = base_ref or DEFAULT_BASE_REF
    folders = {str(PurePosixPath(p).parent) for p in paths}
    on_base, why = files_at_ref(plan.buildroot, base_ref, folders) if folders else (set(), None)
    return Releases(first_release(plan.revisions, pins), base_ref, on_base, why or "")


def below(revisions: Sequence[Revision], ids: Collection[str]) -> str:
    """The `--target` of a downgrade that reverts every one of `ids`: the parent of the oldest."""
    depth = ancestor_counts(revisions, ids)
    oldest = min(ids, key=lambda r: (depth[r], r))
    parents = next((f.down_revisions for f in revisions if f.revision == oldest), ())
    return parents[0] if parents else "base"


def rerun_command(plan: RunnerPlan, ids: Collection[str]) -> str:
    """Downgrade below the edited revisions and upgrade again: the edit then runs."""
    target = below(plan.revisions, ids)
    down = report.goal("db-migrate", plan.selector, "--direction=downgrade", f"--target={target}")
    return f"{down}, then {report.goal('db-migrate', plan.selector)}"

"""The component's revision files as the runner's sandbox holds them, read without importing them.

The plan names every revision file (`plan.revisions`, in Alembic's load order); the sandbox has
them at the same relative paths as the workspace. Parsing them again here gives the full header
(branch labels, `depends_on`), which the plan does not carry, at a cost of microseconds per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Set, Tuple

from db_migrate.plan import RunnerPlan
from db_migrate.revisions import Revision, RevisionGraph, parse_revision_file


def load_revisions(plan: RunnerPlan) -> Tuple[Revision, ...]:
    return tuple(
        parse_revision_file(fact.path, Path(fact.path).read_bytes()) for fact in plan.revisions
    )


def load_graph(plan: RunnerPlan) -> RevisionGraph:
    return RevisionGraph(load_revisions(plan))


def ancestors(revisions: Iterable[Revision], start: Iterable[str]) -> Set[str]:
    """`start` and every revision below it (through `down_revision` and `depends_on`)."""
    by_id: Dict[str, Revision] = {r.revision: r for r in revisions}
    seen: Set[str] = set()
    stack = [s for s in start if s in by_id]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        rev = by_id[current]
        stack.extend(
            d for d in (*rev.down_revisions, *rev.depends_on) if d in by_id and d not in seen
        )
    return seen


def base_to_head(graph: RevisionGraph) -> Tuple[Revision, ...]:
    """Every revision, oldest first (the reverse of `alembic history`)."""
    return tuple(reversed(graph.history()))

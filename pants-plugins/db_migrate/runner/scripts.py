"""The component's revision files as the runner's sandbox holds them, read without importing them.

The plan names every revision file (`plan.revisions`, in Alembic's load order); the sandbox has
them at the same relative paths as the workspace. Parsing them again here gives the full header
(branch labels, `depends_on`), which the plan does not carry, at a cost of microseconds per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

from db_migrate.plan import RunnerPlan
from db_migrate.revisions import Revision, RevisionGraph, parse_revision_file


def load_revisions(plan: RunnerPlan) -> Tuple[Revision, ...]:
    return tuple(
        parse_revision_file(fact.path, Path(fact.path).read_bytes()) for fact in plan.revisions
    )


def load_graph(plan: RunnerPlan) -> RevisionGraph:
    return RevisionGraph(load_revisions(plan))


def base_to_head(graph: RevisionGraph) -> Tuple[Revision, ...]:
    """Every revision, oldest first (the reverse of `alembic history`)."""
    return tuple(reversed(graph.history()))

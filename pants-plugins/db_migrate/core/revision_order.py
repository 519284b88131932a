"""Orders of a revision history that need no `RevisionMap`."""

from __future__ import annotations

import heapq
from typing import Sequence

from db_migrate.core.revision_file import Revision


def base_to_head_order(revisions: Sequence[Revision]) -> tuple[Revision, ...]:
    """Every revision after all it builds on (`down_revision`, and `depends_on` naming a revision
    id), ties in load order: linear in the history. Alembic's own order (`History.base_to_head`,
    what `alembic history` shows) sorts once per branch point, seconds on a long history with
    many merges (docs/benchmarks.md, `scale`); code that needs only some topological order uses
    this one. Takes anything with `revision`, `down_revisions` and `depends_on`."""
    index = {rev.revision: i for i, rev in enumerate(revisions)}
    parents = [
        {index[ref] for ref in (*rev.down_revisions, *rev.depends_on) if ref in index}
        for rev in revisions
    ]
    children: list[list[int]] = [[] for _ in revisions]
    for i, refs in enumerate(parents):
        for ref in refs:
            children[ref].append(i)
    waiting = [len(refs) for refs in parents]
    ready = [i for i, count in enumerate(waiting) if not count]
    heapq.heapify(ready)
    ordered = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(revisions[i])
        for child in children[i]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, child)
    return tuple(ordered)

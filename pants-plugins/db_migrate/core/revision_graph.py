"""What is wrong with a set of revisions: what Alembic's `RevisionMap` would reject or mis-build.

Alembic has no problem finder of its own (it raises on the first problem, or silently builds a
wrong map), so the static pre-flight and `pants lint` report every problem here, by file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from db_migrate.core.revision_file import Revision


@dataclass(frozen=True)
class GraphProblem:
    """Something that stops Alembic from building its revision map (or makes it silently wrong).

    kind: duplicate-revision | missing-revision | cycle | dependency-cycle | duplicate-branch-label |
    invalid-revision-id. `paths` are the files to look at (both files of a duplicate, the file that
    names a missing revision, every file of a cycle).
    """

    kind: str
    message: str
    revisions: tuple[str, ...]
    paths: tuple[str, ...]


class InvalidRevisionGraph(Exception):
    """The revisions do not form a graph Alembic can work with; `problems` lists every reason."""

    def __init__(self, problems: Sequence[GraphProblem]) -> None:
        super().__init__(tuple(problems))
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join(p.message for p in self.problems)


_ILLEGAL_ID_CHARS = ("@", "-", "+", ":")
_ILLEGAL_ID = re.compile("[@+:-]")


def _dedupe(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def find_problems(revisions: Sequence[Revision]) -> tuple[GraphProblem, ...]:
    """Every reason Alembic would fail to build (or would mis-build) a map of these revisions.

    In this order: duplicate ids, illegal characters in ids, reused branch labels, references to
    revisions no file defines, cycles (only searched for when a cheap check says there is one).
    """
    by_id: dict[str, list[Revision]] = {}
    for rev in revisions:
        by_id.setdefault(rev.revision, []).append(rev)
    labels, label_problems = _branch_labels(revisions, by_id)
    first = {rev_id: defined[0] for rev_id, defined in by_id.items()}
    return (
        *_duplicate_ids(by_id),
        *_illegal_ids(revisions),
        *label_problems,
        *_missing_references(revisions, by_id, labels),
        *_cycle_problems(first, labels),
    )


def _duplicate_ids(by_id: dict[str, list[Revision]]) -> list[GraphProblem]:
    problems = []
    for rev_id, defined in by_id.items():
        if len(defined) > 1:
            paths = tuple(r.path for r in defined)
            problems.append(
                GraphProblem(
                    "duplicate-revision",
                    f"Revision {rev_id} is defined more than once: {', '.join(paths)}",
                    (rev_id,),
                    paths,
                )
            )
    return problems


def _illegal_ids(revisions: Sequence[Revision]) -> list[GraphProblem]:
    """Ids Alembic refuses (`@`, `-`, `+`, `:` mean something in its target syntax)."""
    problems = []
    for rev in revisions:
        if not _ILLEGAL_ID.search(rev.revision):
            continue
        illegal = sorted(set(rev.revision).intersection(_ILLEGAL_ID_CHARS))
        problems.append(
            GraphProblem(
                "invalid-revision-id",
                f"Character(s) '{', '.join(illegal)}' not allowed in revision identifier "
                f"'{rev.revision}' ({rev.path})",
                (rev.revision,),
                (rev.path,),
            )
        )
    return problems


def _branch_labels(
    revisions: Sequence[Revision], by_id: dict[str, list[Revision]]
) -> tuple[dict[str, Revision], list[GraphProblem]]:
    """(each label's first owner, every label reused by another revision or equal to an id)."""
    labels: dict[str, Revision] = {}
    problems = []
    for rev in revisions:
        for label in rev.branch_labels:
            owner = by_id[label][0] if label in by_id else labels.get(label)
            if owner is not None:
                problems.append(
                    GraphProblem(
                        "duplicate-branch-label",
                        f"Branch name '{label}' in revision {rev.revision} already used by revision "
                        f"{owner.revision}",
                        (rev.revision, owner.revision),
                        _dedupe((rev.path, owner.path)),
                    )
                )
            else:
                labels[label] = rev
    return labels, problems


def _missing_references(
    revisions: Sequence[Revision], by_id: dict[str, list[Revision]], labels: dict[str, Revision]
) -> list[GraphProblem]:
    """A `down_revision` naming no revision id, a `depends_on` naming neither an id nor a label."""
    problems = []
    ids_and_labels = {**labels, **by_id}
    for rev in revisions:
        for field, refs, known in (
            ("down_revision", rev.down_revisions, by_id),
            ("depends_on", rev.depends_on, ids_and_labels),
        ):
            for ref in refs:
                if ref in known:
                    continue
                hint = (
                    " (that is a branch label; down_revision must name a revision id)"
                    if ref in labels
                    else ""
                )
                problems.append(
                    GraphProblem(
                        "missing-revision",
                        f"Revision {rev.revision} ({rev.path}) has {field} '{ref}', but no migration "
                        f"file defines revision '{ref}'{hint}",
                        (rev.revision, ref),
                        (rev.path,),
                    )
                )
    return problems


def _cycle_problems(first: dict[str, Revision], labels: dict[str, Revision]) -> list[GraphProblem]:
    """Cycles through `down_revision`, then those only `depends_on` closes (each named once)."""

    def edges(rev: Revision, with_dependencies: bool) -> list[str]:
        refs = list(rev.down_revisions)
        if with_dependencies:
            refs += [
                labels[d].revision if d in labels and d not in first else d for d in rev.depends_on
            ]
        return [r for r in refs if r in first]

    ids = list(first)
    if _acyclic(ids, lambda r: edges(first[r], True)):
        return []
    versioned_cycles = _cycles(ids, lambda r: edges(first[r], False))
    problems = []
    for kind, cycles in (
        ("cycle", versioned_cycles),
        ("dependency-cycle", _cycles(ids, lambda r: edges(first[r], True))),
    ):
        for cycle in cycles:
            if kind == "dependency-cycle" and any(set(c) <= set(cycle) for c in versioned_cycles):
                continue
            problems.append(
                GraphProblem(
                    kind,
                    f"{_cycle_word(kind, cycle)} is detected in revisions ({', '.join(cycle)})",
                    cycle,
                    tuple(first[r].path for r in cycle),
                )
            )
    return problems


def _cycle_word(kind: str, cycle: tuple[str, ...]) -> str:
    if kind == "cycle":
        return "Self-loop" if len(cycle) == 1 else "Cycle"
    return "Dependency self-loop" if len(cycle) == 1 else "Dependency cycle"


def _acyclic(ids: list[str], down: Callable[[str], list[str]]) -> bool:
    """Kahn's peeling: cheap, and enough when there is nothing to name."""
    downs = {rev_id: down(rev_id) for rev_id in ids}
    waiting = dict.fromkeys(ids, 0)
    for refs in downs.values():
        for ref in refs:
            waiting[ref] += 1
    ready = [rev_id for rev_id, count in waiting.items() if not count]
    peeled = 0
    while ready:
        peeled += 1
        for ref in downs[ready.pop()]:
            waiting[ref] -= 1
            if not waiting[ref]:
                ready.append(ref)
    return peeled == len(ids)


def _cycles(ids: list[str], down: Callable[[str], list[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative), members in `ids` order."""
    order = {rev_id: i for i, rev_id in enumerate(ids)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[tuple[str, ...]] = []
    for root in ids:
        if root in index:
            continue
        work = [(root, iter(down(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(down(child))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in down(node):
                        found.append(tuple(sorted(component, key=order.__getitem__)))
    return sorted(found, key=lambda c: order[c[0]])

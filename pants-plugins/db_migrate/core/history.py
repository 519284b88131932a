"""A component's history as Alembic's own `RevisionMap`, built from statically read headers.

Heads, bases, `+N`, `REV+N`, `LABEL@head`, partial ids, merges and plans mean exactly what Alembic
means, because Alembic computes them: the plugin (Alembic 1.14 in Pants' CPython 3.9) and the runner
(the repo's Alembic on 3.11) both use this module. What Alembic lacks stays ours: the problem finder
(`revision_graph.find_problems`, run first, since `RevisionMap` fails on a broken history with a
bare KeyError or a warning) and "did you mean" suggestions. Imports Alembic: keep it out of
`revision_file.py` and `revision_graph.py`, which the runner's no-op path imports.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Dict, Iterable, Sequence, Tuple

from alembic.script.revision import (
    MultipleHeads,
    RangeNotAncestorError,
    ResolutionError,
    RevisionError,
    RevisionMap,
)
from alembic.script.revision import Revision as AlembicRevision

from db_migrate.core.file_memo import FileMemo
from db_migrate.core.revision_file import Revision
from db_migrate.core.revision_graph import InvalidRevisionGraph, find_problems


class TargetError(Exception):
    """A target Alembic rejects, with what the user-facing message needs.

    kind: unknown | ambiguous | multiple-heads | invalid. `candidates`: the revisions an ambiguous
    prefix (or `head`) matches; `suggestions`: the known ids and labels closest to an unknown one.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        argument: str | None = None,
        candidates: Sequence[str] = (),
        suggestions: Sequence[str] = (),
    ) -> None:
        super().__init__(kind, message, argument, tuple(candidates), tuple(suggestions))
        self.kind = kind
        self.message = message
        self.argument = argument
        self.candidates = tuple(candidates)
        self.suggestions = tuple(suggestions)

    def __str__(self) -> str:
        return self.message


def graph_shape(revisions: Iterable[Revision]) -> Tuple[Tuple, ...]:
    """What Alembic's map is built from: ids and links, not messages or paths (an edit of a
    docstring or a body keeps the shape)."""
    return tuple((r.revision, r.down_revisions, r.depends_on, r.branch_labels) for r in revisions)


@dataclass(frozen=True)
class AlembicGraph:
    """Alembic's map of one `graph_shape`, and the upgrade plans asked of it: both depend on the
    shape alone, so pantsd keeps them from run to run (`component_setup.RevisionMaps`)."""

    map: RevisionMap
    plans: FileMemo[Tuple[str, ...]]  # (target, current) -> the revision ids, in order


class History:
    """The revisions of one component (in Alembic's load order) and Alembic's map of them.

    Raises `InvalidRevisionGraph` when `find_problems` finds anything; several heads are no problem.
    """

    def __init__(self, revisions: Iterable[Revision], graph: AlembicGraph | None = None) -> None:
        """`graph`: what Alembic built for the same `graph_shape` before (pantsd keeps it)."""
        self.revisions: Tuple[Revision, ...] = tuple(revisions)
        # A graph kept for this shape was built from revisions without problems, and the
        # problems depend on the shape alone.
        problems = find_problems(self.revisions) if graph is None else ()
        if problems:
            raise InvalidRevisionGraph(problems)
        self._by_id: Dict[str, Revision] = {r.revision: r for r in self.revisions}
        if graph is None:
            graph = AlembicGraph(RevisionMap(self._alembic_revisions), FileMemo(64))
        self.graph = graph

    @property
    def map(self) -> RevisionMap:
        return self.graph.map

    def _alembic_revisions(self):
        return [
            AlembicRevision(
                r.revision,
                r.down_revisions or None,
                dependencies=r.depends_on or None,
                branch_labels=r.branch_labels or None,
            )
            for r in self.revisions
        ]

    @property
    def heads(self) -> Tuple[str, ...]:
        """Alembic's heads (`alembic heads`): revisions no `down_revision` names."""
        return tuple(self.map.heads)

    @property
    def bases(self) -> Tuple[str, ...]:
        return tuple(self.map.bases)

    def __len__(self) -> int:
        return len(self.revisions)

    def __contains__(self, revision_id: object) -> bool:
        return revision_id in self._by_id

    def get(self, revision_id: str) -> Revision | None:
        """The revision with exactly this id."""
        return self._by_id.get(revision_id)

    def closest(self, text: str, n: int = 3) -> Tuple[str, ...]:
        """Known revision ids and branch labels nearest to `text`, for "did you mean" hints."""
        keys = [*self._by_id, *(label for r in self.revisions for label in r.branch_labels)]
        prefixed = [k for k in keys if k.startswith(text) or (len(k) > 3 and text.startswith(k))]
        similar = difflib.get_close_matches(text, keys, n=n, cutoff=0.5)
        return tuple(dict.fromkeys(prefixed + similar))[:n]

    def resolve(self, target: str) -> Tuple[str, ...]:
        """The revision ids an absolute target denotes (`head`, an id, a prefix, `LABEL@head`, ...)."""
        try:
            return tuple(r.revision for r in self.map.get_revisions(target) if r is not None)
        except MultipleHeads as e:
            raise TargetError("multiple-heads", str(e), target, candidates=tuple(e.heads)) from None
        except ResolutionError as e:
            raise self._resolution_error(target, e) from None
        except RevisionError as e:
            raise TargetError("invalid", str(e), target) from None

    def _resolution_error(self, target: str, error: ResolutionError) -> TargetError:
        symbol = error.argument if isinstance(error.argument, str) else target
        matches = [k for k in self._by_id if k.startswith(symbol)]
        if len(matches) > 1:
            return TargetError("ambiguous", str(error), symbol, candidates=sorted(matches))
        return TargetError("unknown", str(error), symbol, suggestions=self.closest(symbol))

    def upgrade_plan(self, target: str, current: Sequence[str] = ()) -> Tuple[Revision, ...]:
        """What `alembic upgrade <target>` applies from `current`, in order (`ScriptDirectory._upgrade_revs`)."""
        key = (target, tuple(current))
        ids = self.graph.plans.get(key)
        if ids is None:
            try:
                steps = list(self.map.iterate_revisions(target, key[1], implicit_base=True))
            except (RangeNotAncestorError, MultipleHeads, ResolutionError, RevisionError) as e:
                raise TargetError("invalid", str(e), target) from None
            ids = self.graph.plans.put(key, tuple(r.revision for r in reversed(steps)))
        return tuple(self._by_id[i] for i in ids)

    def newest_first(self) -> Tuple[Revision, ...]:
        """Every revision in `alembic history` order (`ScriptDirectory.walk_revisions`)."""
        steps = self.map.iterate_revisions(
            "heads", "base", inclusive=True, assert_relative_length=False
        )
        return tuple(self._by_id[r.revision] for r in steps)

    def base_to_head(self) -> Tuple[Revision, ...]:
        """Every revision, oldest first (the reverse of `alembic history`)."""
        return tuple(reversed(self.newest_first()))

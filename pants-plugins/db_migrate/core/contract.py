"""The request Pants hands the runner: a JSON file of plain, non-secret facts.

Pants writes it (`to_json`) and the runner reads it (`from_json`); keep both sides in this one
pure module so they cannot drift. Secrets never go here: the database URL reaches the runner
only through its environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional, Tuple

from db_migrate.core.revision_file import Revision

# The shared branch as git names it (`--base-ref` of db-migrate, db-status and db-rebase): revision
# files on it are released.
DEFAULT_BASE_REF = "main"


class _FactsJson:
    """The JSON of the latest few tuples of facts, and of each fact in them, by identity.

    pantsd hands every run the same component setup, and with it the same tuple of revisions,
    until a file changes; after an edit, every revision but the edited file's is the same object
    again (`component_setup.RevisionFileMemo`). At 5,000 revisions writing them is most of a plan's cost.
    Each entry holds its object, so no other object can take its id while it is kept.
    """

    def __init__(self, tuples: int = 8, facts: int = 200_000) -> None:
        self._limits = (tuples, facts)
        self._tuples: Dict[int, Tuple[Tuple[Revision, ...], str]] = {}
        self._facts: Dict[int, Tuple[Revision, str]] = {}

    def text(self, facts: Tuple[Revision, ...]) -> str:
        return self._kept(self._tuples, self._limits[0], facts, self._tuple_text)

    def _tuple_text(self, facts: Tuple[Revision, ...]) -> str:
        return (
            "["
            + ", ".join(self._kept(self._facts, self._limits[1], f, _fact_text) for f in facts)
            + "]"
        )

    @staticmethod
    def _kept(memo: Dict[int, Tuple[Any, str]], limit: int, value: Any, write) -> str:
        kept = memo.get(id(value))
        if kept is not None and kept[0] is value:
            return kept[1]
        text = write(value)
        while len(memo) >= limit:
            memo.pop(next(iter(memo)))
        memo[id(value)] = (value, text)
        return text


def _fact_text(fact: Revision) -> str:
    # `asdict` would deep-copy the fact.
    return json.dumps(fact.__dict__, sort_keys=True)


_FACTS_JSON = _FactsJson()


@dataclass(frozen=True)
class RunnerPlan:
    command: str  # migrate | status | create | rebase-db | verify | devserver
    component: str
    selector: str  # how the user selects this component, for the commands we suggest
    config: str  # the ini, relative to the sandbox (= build root layout)
    url_env: str
    buildroot: str
    revisions: Tuple[Revision, ...] = ()
    heads: Tuple[str, ...] = ()
    options: Dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        raw = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "revisions"}
        rest = json.dumps(raw, sort_keys=True)
        return f'{{"revisions": {_FACTS_JSON.text(self.revisions)}, {rest[1:]}'

    @classmethod
    def from_json(cls, text: str) -> RunnerPlan:
        raw = json.loads(text)
        raw["revisions"] = tuple(
            Revision(
                **{
                    **r,
                    "down_revisions": tuple(r["down_revisions"]),
                    "branch_labels": tuple(r["branch_labels"]),
                    "depends_on": tuple(r["depends_on"]),
                }
            )
            for r in raw.get("revisions", ())
        )
        raw["heads"] = tuple(raw.get("heads", ()))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def option(self, name: str, default: Optional[Any] = None) -> Any:
        return self.options.get(name, default)

"""The request Pants hands the runner: a JSON file of plain, non-secret facts.

Pants writes it (`to_json`) and the runner reads it (`from_json`); keep both sides in this one
pure module so they cannot drift. Secrets never go here: the database URL reaches the runner
only through its environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional, Tuple

# The shared branch as git names it (`--base-ref` of db-migrate, db-status and db-rebase): revision
# files on it are released.
DEFAULT_BASE_REF = "main"


@dataclass(frozen=True)
class RevisionFact:
    revision: str
    down_revisions: Tuple[str, ...]
    message: str
    path: str
    checksum: str = ""
    branch_labels: Tuple[str, ...] = ()
    depends_on: Tuple[str, ...] = ()


@dataclass(frozen=True)
class RunnerPlan:
    command: str  # migrate | status | create | rebase-db | verify | devserver
    component: str
    selector: str  # how the user selects this component, for the commands we suggest
    config: str  # the ini, relative to the sandbox (= build root layout)
    url_env: str
    buildroot: str
    revisions: Tuple[RevisionFact, ...] = ()
    heads: Tuple[str, ...] = ()
    options: Dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        # `asdict` would deep-copy every fact (a third of a second at 5,000 revisions).
        raw = {f.name: getattr(self, f.name) for f in fields(self)}
        raw["revisions"] = [fact.__dict__ for fact in self.revisions]
        return json.dumps(raw, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunnerPlan:
        raw = json.loads(text)
        raw["revisions"] = tuple(
            RevisionFact(
                **{
                    **r,
                    "down_revisions": tuple(r["down_revisions"]),
                    "branch_labels": tuple(r.get("branch_labels", ())),
                    "depends_on": tuple(r.get("depends_on", ())),
                }
            )
            for r in raw.get("revisions", ())
        )
        raw["heads"] = tuple(raw.get("heads", ()))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def option(self, name: str, default: Optional[Any] = None) -> Any:
        return self.options.get(name, default)

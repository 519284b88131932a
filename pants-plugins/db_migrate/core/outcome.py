"""What one runner command did, as JSON for the goal (summaries, `--output=json`): written by the
runner, or by pantsd when it answered the command itself (`goals/in_pantsd.py`)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Tuple

from db_migrate.core.report import Problem, Step


@dataclass
class Outcome:
    component: str
    command: str
    direction: str = ""
    target: str = ""
    status: str = "error"  # migrated | up-to-date | failed | error | ok
    before: Tuple[str, ...] = ()
    after: Tuple[str, ...] = ()
    steps: Tuple[Step, ...] = ()
    seconds: float = 0.0
    backup: Any = None
    error: Optional[Problem] = None
    extra: dict = field(default_factory=dict)

    def finish(self, status: str, after: Tuple[str, ...]) -> Outcome:
        self.status = status
        self.after = tuple(after)
        return self

    def to_dict(self) -> dict:
        data = {
            "component": self.component,
            "command": self.command,
            "status": self.status,
            "direction": self.direction,
            "target": self.target,
            "before": list(self.before),
            "after": list(self.after),
            "steps": [dataclasses.asdict(s) for s in self.steps],
            "seconds": round(self.seconds, 4),
            "backup": None,
            "error": None,
        }
        if self.backup is not None:
            data["backup"] = {
                "path": str(self.backup.path),
                "size": self.backup.size,
                "restore_command": self.backup.restore_command,
            }
        if self.error is not None:
            data["error"] = {
                "kind": self.error.kind,
                "title": self.error.title,
                "details": list(self.error.details),
            }
        data.update(self.extra)
        return data

    def write(self, path: Optional[str]) -> None:
        if path:
            Path(path).write_text(json.dumps(self.to_dict(), sort_keys=True))

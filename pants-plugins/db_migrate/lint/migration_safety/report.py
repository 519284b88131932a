"""Pure: which revisions the migration-safety lint checks, and the text and JSON it reports.

The runner's per-revision result (`runner/commands/migration_safety.py`) is plain JSON; this module turns a
component's results into what `pants lint` prints (one block per finding, a summary line per
component) and the report file CI reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

from db_migrate.core.report import WARNING, Problem
from db_migrate.core.revision_file import Revision

REPORT_SCHEMA = "pants-db-migrate/migration-safety/v1"


@dataclass(frozen=True)
class Selection:
    revisions: Tuple[Revision, ...]  # to lint, in the component's load order
    released: int  # revisions skipped because a release contains them
    newest_release: str = ""  # "NAME = REVISION" of the pin that decided


def select_revisions(
    revisions: Sequence[Revision], pins: Sequence[Tuple[str, str]], everything: bool
) -> Selection:
    """Revisions in no release yet (not the newest pin or an ancestor of it), or all of them."""
    if everything or not pins:
        return Selection(tuple(revisions), 0)
    parents = {r.revision: (*r.down_revisions, *r.depends_on) for r in revisions}
    released: set = set()
    stack = [pin for _, pin in pins]
    while stack:  # every pin and everything it builds on
        revision = stack.pop()
        if revision not in released:
            released.add(revision)
            stack.extend(parents.get(revision, ()))
    name, revision = pins[-1]
    return Selection(
        tuple(r for r in revisions if r.revision not in released),
        len(released),
        f"{name} = {revision}",
    )


def _where(result: Dict[str, Any], finding: Dict[str, Any]) -> str:
    where = result["path"] + (f":{finding['line']}" if finding.get("line") else "")
    return f"{where} ({result['revision']} {finding['direction']})"


def render_finding(result: Dict[str, Any], finding: Dict[str, Any]) -> str:
    """An error in full (where, rule, why, the statement, the fix); a warning on one line."""
    if finding["level"] != "error":
        return f"{WARNING} {finding['rule']}: {_where(result, finding)}: {finding['message']}"
    lines = [f"❌ {finding['rule']}: {_where(result, finding)}", f"   {finding['message']}"]
    if finding.get("sql"):
        sql = " ".join(finding["sql"].split())
        lines.append(f"   SQL: {sql if len(sql) <= 160 else sql[:157] + '...'}")
    if finding.get("fix"):
        lines.append(f"   Fix: {finding['fix']}")
    return "\n".join(lines)


def problem_of(data: Dict[str, Any]) -> Problem:
    return Problem(
        title=data["title"],
        details=tuple(data.get("details", ())),
        actions=tuple(data.get("actions", ())),
        kind=data.get("kind", "error"),
    )


@dataclass(frozen=True)
class ComponentSafety:
    component: str
    selector: str
    selection: Selection
    results_json: Tuple[str, ...]  # one runner result per selected revision
    problems: Tuple[Problem, ...] = ()  # what stopped the lint before any revision ran

    @property
    def results(self) -> List[Dict[str, Any]]:
        parsed = self.__dict__.get("_parsed")
        if parsed is None:
            parsed = [json.loads(text) for text in self.results_json]
            object.__setattr__(self, "_parsed", parsed)
        return parsed

    def findings(self, level: str) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
        return [(r, f) for r in self.results for f in r["findings"] if f["level"] == level]

    def all_problems(self) -> List[Problem]:
        return [*self.problems, *(problem_of(p) for r in self.results for p in r["problems"])]

    @property
    def failed(self) -> bool:
        return bool(self.all_problems() or self.findings("error"))

    def summary(self) -> str:
        errors, warnings = len(self.findings("error")), len(self.findings("warning"))
        ignored = sum(len(r["ignored"]) for r in self.results)
        parts = [f"{len(self.results)} revision{'s' if len(self.results) != 1 else ''} checked"]
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        if ignored:
            parts.append(f"{ignored} ignored")
        if self.selection.released:
            parts.append(
                f"{self.selection.released} released skipped (newest release"
                f" {self.selection.newest_release}; --migration-safety-all checks them)"
            )
        if self.all_problems():
            parts.append(f"{len(self.all_problems())} problem(s)")
        return f"{self.component}: " + ", ".join(parts)

    def render(self) -> str:
        blocks = [render_finding(r, f) for r, f in self.findings("error")]
        warnings = [render_finding(r, f) for r, f in self.findings("warning")]
        ignored = [
            f"ignored {i['rule']} ({i['silenced']} finding(s)) in {r['path']}:{i['line']}: {i['reason']}"
            for r in self.results
            for i in r["ignored"]
        ]
        blocks += ["\n".join(group) for group in (warnings, ignored) if group]
        blocks.extend(p.render() for p in self.all_problems())
        return "\n\n".join([*blocks, self.summary()])

    def report(self) -> Dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "component": self.component,
            "target": self.selector,
            "ok": not self.failed,
            "checked": [r["revision"] for r in self.results],
            "released_skipped": self.selection.released,
            "findings": [
                dict(f, revision=r["revision"], path=r["path"])
                for r in self.results
                for f in r["findings"]
            ],
            "ignored": [
                dict(i, revision=r["revision"], path=r["path"])
                for r in self.results
                for i in r["ignored"]
            ],
            "problems": [
                {
                    "kind": p.kind,
                    "title": p.title,
                    "details": list(p.details),
                    "actions": list(p.actions),
                }
                for p in self.all_problems()
            ],
        }

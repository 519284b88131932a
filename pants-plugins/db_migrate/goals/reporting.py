"""What a db-* goal says: human text on the console, one JSON report (`--output=json`,
`--report-file`) at the end, and the one-line summary of a run over several components."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Sequence

from pants.base.build_root import BuildRoot
from pants.engine.console import Console
from pants.option.option_types import StrOption
from pants.util.strutil import softwrap

from db_migrate.core.report import Problem
from db_migrate.goals.process_death import killed_by_signal

REPORT_SCHEMA = "pants-db-migrate/report/v1"
OUTPUTS = ("text", "json")


class ReportOptions:
    """`--output` and `--report-file`, shared by every db-* goal (mixed into its subsystem)."""

    output = StrOption(
        default="text",
        metavar="text|json",
        help=softwrap(
            f"""
            `json`: print one JSON report on stdout (schema `{REPORT_SCHEMA}`, see
            docs/report-schema.md) and send everything human-readable to stderr.
            """
        ),
    )
    report_file = StrOption(
        default=None,
        metavar="PATH",
        help="Also write the JSON report to this file (relative to the build root).",
    )


@dataclass(frozen=True)
class ComponentRun:
    component: str
    exit_code: int
    outcome: Dict[str, Any]


class Reporter:
    """What a goal says: human text on the console, and the machine-readable report at the end."""

    def __init__(
        self, console: Console, goal: str, options: ReportOptions, build_root: BuildRoot
    ) -> None:
        self.console = console
        self.goal = goal
        # `--component=NAME` as given (`run_goal` sets it): what selects the components instead
        # of specs.
        self.components: tuple = ()
        self.output = (options.output or "text").strip().lower()
        self.report_file = options.report_file and os.path.join(
            build_root.path, options.report_file
        )
        self.runs: list = []
        self.problems: list = []
        self.skipped: list = []
        # Top-level report entries of one goal (db-dev-server's `server`).
        self.extra: Dict[str, Any] = {}

    @property
    def json(self) -> bool:
        return self.output == "json"

    def say(self, text: str) -> None:
        (self.console.print_stderr if self.json else self.console.print_stdout)(text)

    def problem(self, problems: Iterable[Problem], component: str | None = None) -> None:
        for problem in problems:
            self.problems.append((component, problem))
            if len(self.problems) > 1:
                self.console.print_stderr("")
            self.console.print_stderr(problem.render())

    def add(self, run: ComponentRun) -> ComponentRun:
        self.runs.append(run)
        return run

    def relay(
        self, component: str, selector: str, result: Any, process: str = "verification", again=""
    ) -> bool:
        """Pass on what a finished cached process of ours printed (`exit_code`, `stdout`,
        `stderr`, `metadata`) and, when a signal killed it, why (`killed_by_signal`); True when
        one did."""
        if result.stdout.strip():
            self.say(result.stdout.rstrip())
        if result.stderr.strip():
            self.console.print_stderr(result.stderr.rstrip())
        killed = killed_by_signal(
            component,
            selector,
            result.exit_code,
            result.stdout,
            result.metadata.total_elapsed_ms,
            process,
            again,
        )
        if killed is not None:
            self.console.print_stderr(killed.render())
        return killed is not None

    def check_output(self) -> bool:
        if self.output in OUTPUTS:
            return True
        bad, self.output = self.output, "text"
        self.problem(
            [
                Problem(
                    title=f"Invalid output '{bad}'",
                    details=("--output is text (the default) or json",),
                    actions=(f"pants {self.goal} --output=json ...",),
                    kind="invalid_output",
                )
            ]
        )
        return False

    def finish(self, exit_code: int) -> int:
        if self.json or self.report_file:
            text = json.dumps(self.report(exit_code), indent=2, sort_keys=True)
            if self.json:
                self.console.print_stdout(text)
            if self.report_file:
                os.makedirs(os.path.dirname(self.report_file) or ".", exist_ok=True)
                with open(self.report_file, "w") as f:
                    f.write(text + "\n")
        return exit_code

    def report(self, exit_code: int) -> Dict[str, Any]:
        components = [
            dict(run.outcome, component=run.component, exit_code=run.exit_code) for run in self.runs
        ]
        components += [{"component": name, "status": "skipped"} for name in self.skipped]
        return {
            "schema": REPORT_SCHEMA,
            "goal": self.goal,
            "exit_code": exit_code,
            "ok": exit_code == 0,
            "components": components,
            "problems": [
                {
                    "component": component,
                    "kind": p.kind,
                    "title": p.title,
                    "details": list(p.details),
                    "actions": list(p.actions),
                }
                for component, p in self.problems
            ],
            **self.extra,
        }


def summary_line(
    console: Console, goal: str, runs: Sequence[ComponentRun], skipped: Sequence[str]
) -> str:
    parts = []
    for run in runs:
        status = run.outcome.get("status") or ("ok" if run.exit_code == 0 else "failed")
        steps = run.outcome.get("steps") or []
        if status == "migrated":
            parts.append(
                f"{run.component} migrated ({len(steps)} revision{'s' if len(steps) != 1 else ''})"
            )
        else:
            parts.append(f"{run.component} {status}")
    parts += [f"{name} skipped" for name in skipped]
    ok = all(r.exit_code == 0 for r in runs) and not skipped
    sigil = console.sigil_succeeded() if ok else console.sigil_failed()
    reached = sum(1 for r in runs if r.exit_code == 0)
    total = len(runs) + len(skipped)
    return f"{sigil} {goal}: {reached}/{total} components reached their target: " + ", ".join(parts)

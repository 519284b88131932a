"""`pants lint` (migration-safety): one revision's upgrade and downgrade SQL through squawk and our rules.

Runs in a cached sandbox holding the component's environment and this one revision file (see
`revision_sql`). Prints one JSON object for the Pants side to render:
{"revision", "path", "findings": [...], "ignored": [...], "problems": [...]}. Problems (an error
in the user's code, a bad ignore comment) are data too: the process itself succeeds, so the
result is cached like any other.
"""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional

from db_migrate.core.contract import MigrationSafetyOptions, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem
from db_migrate.runner.alembic_glue.revision_sql import RenderedSql, Statement, render, write_stubs
from db_migrate.runner.safety import rules as safety_rules
from db_migrate.runner.safety import squawk

LOCK_TIMEOUT_RULE = "require-lock-timeout"
STATEMENT_TIMEOUT_RULE = "require-statement-timeout"


def _finding(
    direction: str,
    rule: str,
    level: str,
    statement: Optional[Statement],
    message: str,
    fix: str,
    source: str,
    sql_line=None,
) -> Dict[str, Any]:
    return {
        "direction": direction,
        "rule": rule,
        "level": level,
        "line": statement.line if statement else None,
        "sql": statement.sql if statement else None,
        "sql_line": sql_line,
        "message": message,
        "fix": fix or "",
        "source": source,
    }


def _user_code_error(
    plan: RunnerPlan[MigrationSafetyOptions], revision: str, direction: str, error: BaseException
) -> Problem:
    """An exception of env.py, the models or the revision, with the file and line it came from."""
    root = os.getcwd() + os.sep
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if os.path.abspath(f.filename).startswith(root)
        and "site-packages" not in f.filename
        and "__db_migrate_runner__" not in f.filename
    ]
    where = ""
    if frames:
        last = frames[-1]
        where = f"{os.path.relpath(last.filename, root)}:{last.lineno}: "
    down = plan.options.parents or ("base",)
    return Problem(
        title=f"Cannot render the SQL of {revision} ({direction})",
        details=(f"{where}{type(error).__name__}: {error}",),
        actions=(
            f"Fix the error{' in ' + where.split(':')[0] if where else ''} (Alembic's offline mode"
            " runs env.py with only the URL's dialect and each op renders its SQL)",
            f"Reproduce: pants db-migrate --sql --target={down[0]}:{revision} {plan.selector}",
        ),
        kind="migration_safety_render",
    )


def _problem_dict(problem: Problem) -> Dict[str, Any]:
    return {
        "title": problem.title,
        "details": list(problem.details),
        "actions": list(problem.actions),
        "kind": problem.kind,
    }


def _squawk_findings(
    plan: RunnerPlan[MigrationSafetyOptions], rendered: RenderedSql, excluded: List[str]
) -> List[Dict[str, Any]]:
    """Errors in an upgrade; warnings in a downgrade, the emergency path db-migrate backs up first."""
    options = plan.options
    found = squawk.lint(options.squawk, rendered, list(options.squawk_args), excluded)
    level = "error" if rendered.direction == "upgrade" else "warning"
    return [
        _finding(
            rendered.direction,
            f.rule,
            level,
            f.statement,
            f.message,
            f.help or "",
            "squawk",
            f.sql_line,
        )
        for f in found
    ]


def _excluded(plan: RunnerPlan[MigrationSafetyOptions]) -> List[str]:
    """The squawk rules not checked: the subsystem's `exclude`, and the two timeout rules when
    the component's target sets a timeout (the runner applies it to every revision)."""
    out = list(plan.options.exclude)
    if plan.options.timeouts_set:
        out += [LOCK_TIMEOUT_RULE, STATEMENT_TIMEOUT_RULE]
    return out


def _ignore_problems(plan: RunnerPlan[MigrationSafetyOptions], path: str, text: str):
    ignores, errors = safety_rules.read_ignores(text)
    problems = [
        Problem(
            title="Invalid migration-safety comment",
            details=(f"{path}:{e.line}: {e.message}",),
            actions=("Write it as `# migration-safety: ignore=RULE reason`",),
            kind="migration_safety_ignore",
        )
        for e in errors
    ]
    candidates = safety_rules.not_ours([i.rule for i in ignores])
    for name in squawk.unknown_rules(plan.options.squawk, candidates):
        lines = ", ".join(str(i.line) for i in ignores if i.rule == name)
        problems.append(
            Problem(
                title=f"Unknown migration-safety rule '{name}'",
                details=(f"{path}:{lines}: no squawk rule and no rule of ours is called {name}",),
                actions=(
                    "Use a rule name from the finding it should silence (e.g. require-concurrent-index-creation)",
                    "Our rules: " + ", ".join(sorted(safety_rules.RULES)),
                ),
                kind="migration_safety_unknown_rule",
            )
        )
    return ignores, problems


def run(plan: RunnerPlan[MigrationSafetyOptions], environ, outcome: Outcome) -> None:
    revision, path = plan.options.revision, plan.options.path
    write_stubs(path, list(plan.options.parents))
    ignores, problems = _ignore_problems(plan, path, Path(path).read_text(errors="replace"))
    rendered = {}
    for direction in ("upgrade", "downgrade"):
        try:
            rendered[direction] = render(plan.config, revision, path, direction)
        except Exception as e:  # noqa: BLE001 - the user's code: reported as theirs
            problems.append(_user_code_error(plan, revision, direction, e))
    findings: List[Dict[str, Any]] = []
    if len(rendered) == 2:
        excluded = _excluded(plan)
        try:
            findings += _squawk_findings(plan, rendered["upgrade"], excluded)
            findings += _squawk_findings(
                plan, rendered["downgrade"], [*excluded, *safety_rules.REPLACED_ON_DOWNGRADE]
            )
        except squawk.SquawkFailed as e:
            problems.append(
                Problem(
                    title="squawk failed",
                    details=(str(e),),
                    actions=(
                        "Check [migration-safety].args and .exclude: squawk names what it refused",
                    ),
                    kind="migration_safety_squawk",
                )
            )
        for direction, f in safety_rules.own_findings(rendered["upgrade"], rendered["downgrade"]):
            level, fix = safety_rules.RULES[f.rule]
            findings.append(
                _finding(direction, f.rule, level, f.statement, f.message, fix, "migration-safety")
            )
    ignored_rules = {i.rule for i in ignores}
    result = {
        "revision": revision,
        "path": path,
        "findings": [f for f in findings if f["rule"] not in ignored_rules],
        "ignored": [
            {
                "rule": i.rule,
                "reason": i.reason,
                "line": i.line,
                "silenced": sum(1 for f in findings if f["rule"] == i.rule),
            }
            for i in ignores
        ],
        "problems": [_problem_dict(p) for p in problems],
    }
    print(json.dumps(result, sort_keys=True))
    outcome.status = "ok"

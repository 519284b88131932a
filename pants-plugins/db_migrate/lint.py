"""`pants lint`: the static pre-flight of every component, with no database at all.

CI catches diverged heads, dangling `down_revision`s, duplicate ids, cycles, unparsable revision
files and broken Alembic configs here, from the same cached rules `db-migrate` uses.
"""

from __future__ import annotations

import json
from typing import Any

from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.process import FallibleProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import pluralize

from db_migrate import report
from db_migrate.component import ComponentSetup
from db_migrate.plan import RunnerPlan
from db_migrate.report import Problem
from db_migrate.runner_process import RunnerCheckRequest
from db_migrate.target_types import AlembicMigrationsFieldSet


class AlembicHistoryCheck(Subsystem):
    options_scope = "alembic-history"
    name = "alembic-history"
    help = "Static checks of each alembic_migrations target's Alembic config and revision history."

    skip = SkipOption("lint")


class AlembicHistoryLintRequest(LintTargetsRequest):
    field_set_type = AlembicMigrationsFieldSet
    tool_subsystem = AlembicHistoryCheck
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


@rule(desc="Check Alembic histories", level=LogLevel.DEBUG)
async def lint_alembic_history(
    request: AlembicHistoryLintRequest.Batch[AlembicMigrationsFieldSet, Any]
) -> LintResult:
    setups = await MultiGet(
        Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in request.elements
    )
    # Full syntax of every file, compiled by the interpreter the migrations run on (cached per content).
    checks = await MultiGet(
        Get(
            FallibleProcessResult,
            RunnerCheckRequest(
                setup.field_set,
                RunnerPlan(
                    command="syntax",
                    component=setup.component,
                    selector=setup.selector,
                    config=setup.field_set.alembic_config.value,
                    url_env=setup.field_set.url_env,
                    buildroot="",
                    options={"paths": list(setup.files)},
                ).to_json(),
                f"Compile the revision files of {setup.component}",
            ),
        )
        for setup in setups
    )
    lines = []
    failed = 0
    for setup, check in sorted(zip(setups, checks), key=lambda pair: pair[0].component):
        problems = list(setup.problems)
        problems.extend(_syntax_problems(setup, check))
        if not problems and len(setup.heads) > 1:
            problems.append(
                report.multiple_heads(setup.component, setup.selector, setup.head_infos())
            )
        if problems:
            failed += 1
            lines.append(
                f"{setup.component} ({setup.selector}): {pluralize(len(problems), 'problem')}"
            )
            lines.extend(p.render() + "\n" for p in problems)
        else:
            head = ", ".join(setup.heads) or report.BASE
            lines.append(
                f"{setup.component}: {pluralize(len(setup.revisions), 'revision')}, single head {head}"
            )
    return LintResult(
        exit_code=1 if failed else 0,
        stdout="\n".join(lines) + "\n",
        stderr="",
        linter_name=AlembicHistoryLintRequest.tool_name,
        partition_description=None,
    )


def _syntax_problems(setup: ComponentSetup, check: FallibleProcessResult) -> list:
    already = {line.split(":")[0] for p in setup.problems for line in p.details}
    if check.exit_code != 0:
        return [
            Problem(
                title=f"Cannot check the revision files of {setup.component}",
                details=tuple(
                    (check.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[
                        :3
                    ]
                ),
                actions=("Run `pants lint` again with -ldebug and report the output",),
                kind="syntax_check_failed",
            )
        ]
    errors = json.loads(check.stdout.decode().strip().splitlines()[-1])["errors"]
    return [
        report.revision_file_problem(e["path"], e["line"], e["message"])
        for e in errors
        if e["path"] not in already
    ]


def rules():
    return [*collect_rules(), *AlembicHistoryLintRequest.rules()]

"""`pants lint`: the static pre-flight of every component, with no database at all.

CI catches diverged heads, dangling `down_revision`s, duplicate ids, cycles, unparsable revision
files and broken Alembic configs here, from the same cached rules `db-migrate` uses.
"""

from __future__ import annotations

from typing import Any

from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import pluralize

from db_migrate import report
from db_migrate.component import ComponentSetup
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
async def lint_alembic_history(request: AlembicHistoryLintRequest.Batch[AlembicMigrationsFieldSet, Any]) -> LintResult:
    setups = await MultiGet(Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in request.elements)
    lines = []
    failed = 0
    for setup in sorted(setups, key=lambda s: s.component):
        problems = list(setup.problems)
        if not problems and len(setup.heads) > 1:
            problems.append(report.multiple_heads(setup.component, setup.selector, setup.head_infos()))
        if problems:
            failed += 1
            lines.append(f"{setup.component} ({setup.selector}): {pluralize(len(problems), 'problem')}")
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


def rules():
    return [*collect_rules(), *AlembicHistoryLintRequest.rules()]

"""`pants db-create-migration --message=... SPECS`: a new revision on top of the single head.

Static pre-flight first: exactly one component, a message, a history with one head (a diverged
history gets the multiple-heads error: resolve it with db-rebase first). The runner renders the
component's `script.py.mako` with Alembic in the resolved environment and writes the file into
the workspace; `--autogenerate` fills it from a comparison of the models with the database.
"""

from __future__ import annotations

import os
import re
from typing import Optional

from pants.base.build_root import BuildRoot
from pants.base.specs import Specs
from pants.engine.console import Console
from pants.engine.fs import Workspace
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import Get, collect_rules, goal_rule
from pants.option.option_types import BoolOption, StrOption
from pants.util.strutil import softwrap
from pants.vcs.changed import Changed

from db_migrate.core.report import Problem
from db_migrate.goals.common import (
    Reporter,
    ReportOptions,
    run_component,
    static_problems,
    with_default_specs,
)
from db_migrate.lint.migration_safety.rules import report_new_revision
from db_migrate.lint.python_lint.new_file import NewFileFormatRequest, NewFileFormatted
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.selection import (
    ComponentSelection,
    ComponentSelectionRequest,
    ExampleSelector,
)
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet

REV_ID = re.compile(r"^[A-Za-z0-9_]+$")
NO_REVISION_FILES = "No revision files"  # a fresh component: its first revision is what we create


class DbCreateMigrationSubsystem(GoalSubsystem, ReportOptions):
    name = "db-create-migration"
    help = softwrap(
        """
        Create a new Alembic revision in the selected component's `versions/`, from its
        `script.py.mako`, on top of its single head, then run the repo's fixers and formatters
        for revision files on it (ruff and Black with `db_migrate.lint.python_lint`), so it passes
        `pants lint` as written. Example:
        `pants db-create-migration --message="Add user nickname" --autogenerate src/ai/backend/manager::`.
        """
    )

    message = StrOption(
        default=None,
        metavar="TEXT",
        help="What the revision does (required): its docstring and, slugified, its file name.",
    )
    autogenerate = BoolOption(
        default=False,
        help=softwrap(
            """
            Compare the models with the component's database (the development server by default,
            started on demand and brought to head first) and write the operations that differ.
            Review the result: autogenerate does not see everything (renames, data migrations).
            """
        ),
    )
    empty = BoolOption(
        default=False,
        help="With --autogenerate: write the revision even when no difference is found (an empty one).",
    )
    rev_id = StrOption(
        default=None,
        metavar="ID",
        help="Use this revision id instead of a generated one (letters, digits and `_`).",
    )


class DbCreateMigration(Goal):
    subsystem_cls = DbCreateMigrationSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


def missing_message(example: str) -> Problem:
    return Problem(
        title="A new migration needs a message",
        details=(
            "`--message` names what the revision does; it becomes its docstring and file name",
        ),
        actions=(
            f'pants db-create-migration --message="Add user nickname" {example}',
            'With autogenerate: pants db-create-migration --autogenerate --message="..." <component>',
        ),
        kind="missing_message",
    )


def one_component_only(components, example: str) -> Problem:
    return Problem(
        title="Select exactly one component",
        details=(
            f"A new revision belongs to one history; the arguments select {len(components)}: "
            + ", ".join(components),
        ),
        actions=(
            f'Name one component: pants db-create-migration --message="..." {example}',
            "List them: pants list --filter-target-type=alembic_migrations ::",
        ),
        kind="one_component_only",
    )


def bad_rev_id(rev_id: str, why: str) -> Problem:
    return Problem(
        title=f"Invalid revision id '{rev_id}'",
        details=(why,),
        actions=("Leave --rev-id out for a generated id, or choose another one",),
        kind="invalid_rev_id",
    )


async def _db_create_migration(
    reporter: Reporter,
    workspace: Workspace,
    subsystem: DbCreateMigrationSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
) -> int:
    message = (subsystem.message or "").strip()
    if not message:
        reporter.problem([missing_message((await Get(ExampleSelector)).spec)])
        return 2

    selection = await Get(
        ComponentSelection, ComponentSelectionRequest(specs, "db-create-migration")
    )
    if selection.problem:
        reporter.problem([selection.problem])
        return 2
    if len(selection.field_sets) != 1:
        names = [fs.component_name for fs in selection.field_sets]
        reporter.problem([one_component_only(names, (await Get(ExampleSelector)).spec)])
        return 2

    setup = await Get(ComponentSetup, AlembicMigrationsFieldSet, selection.field_sets[0])
    # A component without revision files is fine here: its first revision is what we create.
    problems = tuple(
        p
        for p in static_problems(setup, refuse_multiple_heads=True)
        if p.title != NO_REVISION_FILES
    )
    if problems:
        reporter.problem(problems)
        return 1

    rev_id = (subsystem.rev_id or "").strip() or None
    why = _rev_id_refused(rev_id, setup)
    if why:
        reporter.problem([bad_rev_id(rev_id, why)])
        return 2

    run = await run_component(
        setup,
        command="create",
        settings=settings,
        build_root=build_root,
        reporter=reporter,
        options={
            "message": message,
            "autogenerate": subsystem.autogenerate,
            "empty": subsystem.empty,
            "rev_id": rev_id,
            # Bringing the database to head first is a db-migrate upgrade: same lock wait.
            "lock_wait": 60,
        },
    )
    await _format_new_revision(reporter, workspace, setup, run.outcome, build_root)
    await report_new_revision(reporter.say, setup, run.outcome, build_root.path)
    return run.exit_code


def _rev_id_refused(rev_id: Optional[str], setup: ComponentSetup) -> Optional[str]:
    """Why a `--rev-id` cannot name the new revision (None: it can, or none was given)."""
    if rev_id is None:
        return None
    if not REV_ID.match(rev_id):
        return "A revision id is made of letters, digits and `_`"
    if any(r.revision == rev_id for r in setup.revisions):
        return f"{setup.component} already has a revision {rev_id}"
    return None


async def _format_new_revision(
    reporter: Reporter, workspace: Workspace, setup: ComponentSetup, outcome, build_root: BuildRoot
) -> None:
    """The repo's own fixers and formatters on the file the runner wrote, so it passes `pants
    lint` as written (the template keeps an empty revision clean; autogenerated code needs them)."""
    created = outcome.get("created")
    if not created:
        return
    path = created["path"]
    try:
        with open(os.path.join(build_root.path, path), "rb") as f:
            content = f.read()
    except OSError:
        return
    formatted = await Get(
        NewFileFormatted, NewFileFormatRequest(setup.field_set.address, path, content)
    )
    created["formatted_by"] = list(formatted.changed_by)
    if formatted.changed_by:
        workspace.write_digest(formatted.snapshot.digest)
        reporter.say(f"Formatted with the repo's tools: {', '.join(formatted.changed_by)}")


@goal_rule
async def db_create_migration(
    console: Console,
    workspace: Workspace,
    subsystem: DbCreateMigrationSubsystem,
    settings: DbMigrationsSubsystem,
    specs: Specs,
    build_root: BuildRoot,
    changed: Changed,
) -> DbCreateMigration:
    reporter = Reporter(console, "db-create-migration", subsystem, build_root)
    specs = with_default_specs(specs, settings, changed, build_root, reporter)
    code = (
        await _db_create_migration(reporter, workspace, subsystem, settings, specs, build_root)
        if reporter.check_output()
        else 2
    )
    return DbCreateMigration(exit_code=reporter.finish(code))


def rules():
    return collect_rules()

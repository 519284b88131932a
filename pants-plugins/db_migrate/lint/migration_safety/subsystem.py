"""`[migration-safety]`: the migration-safety lint and its tool, squawk, pinned in a lockfile."""

from __future__ import annotations

from pants.backend.python.subsystems.python_tool_base import LockfileRules, PythonToolBase
from pants.backend.python.target_types import ConsoleScript
from pants.option.option_types import ArgsListOption, BoolOption, SkipOption, StrListOption
from pants.util.strutil import softwrap

# squawk's style preferences: they say nothing about what a revision does to a live database.
STYLE_RULES = (
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
)


class MigrationSafety(PythonToolBase):
    options_scope = "migration-safety"
    name = "migration-safety"
    help = softwrap(
        """
        Migration safety lint (`pants lint`): renders each revision's upgrade and downgrade SQL
        alone with Alembic's offline mode and checks it with squawk (https://squawkhq.com) and
        rules of our own (data-losing downgrades, data changes without a downgrade, enum values
        used in the transaction that adds them). By default only revisions in no release yet.
        Silence a rule for one revision with `# migration-safety: ignore=RULE reason` in its file.
        """
    )

    default_version = "squawk-cli==2.70.0"
    default_main = ConsoleScript("squawk")
    default_requirements = ["squawk-cli>=2.70,<3"]
    register_interpreter_constraints = True  # default: the resolve's own
    # There is no built-in lockfile: squawk is installed from the resolve named by
    # `install_from_resolve` (this repo: `migration-safety`, 3rdparty/python/migration-safety.lock).
    # PythonToolBase insists on naming a default; the lint refuses to run without a resolve.
    default_lockfile_resource = ("db_migrate", "migration-safety.lock")
    lockfile_rules_type = LockfileRules.CUSTOM

    skip = SkipOption("lint")
    args = ArgsListOption(
        example="--pg-version=13 --include=require-table-schema", tool_name="squawk"
    )
    all = BoolOption(
        default=False,
        help=softwrap(
            """
            Lint every revision. By default only revisions in no release yet are linted: those
            that are not the newest release pin of the component (`release_pins` field) or one of
            its ancestors; all of them when the component has no pins.
            """
        ),
    )
    exclude = StrListOption(
        default=list(STYLE_RULES),
        help=softwrap(
            """
            squawk rules not checked in any revision. By default squawk's style preferences
            (column types it prefers), which say nothing about what a revision does to a live
            database. `require-lock-timeout` and `require-statement-timeout` need no entry: they
            are satisfied for a component whose target sets `lock_timeout` or
            `statement_timeout`, since the runner applies them to every revision.
            """
        ),
    )

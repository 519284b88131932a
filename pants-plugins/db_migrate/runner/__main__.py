"""Entry point of the runner: `python -m db_migrate.runner PLAN.json` inside the resolved venv.

Every expected failure is a `ProblemError`: rendered in docs/specification.md's format, exit code 1,
no traceback. Anything else is a bug of ours: one line, and the traceback only with
DB_MIGRATE_DEBUG=1.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from db_migrate.core.contract import RunnerPlan
from db_migrate.core.report import ProblemError, mask
from db_migrate.runner.outcome import Outcome
from db_migrate.runner.usercode import error_line, user_code_problem

EXIT_FAILED = 1


# Each command's module (its `run`), imported only when that command runs: db-status need not
# pay for importing what db-migrate, db-verify or the safety lint use.
_COMMANDS = {
    "migrate": "migrate",
    "accept": "accept",
    "sql": "sql",
    "syntax": "syntax",
    "devserver": "devserver",
    "status": "status",
    "create": "create",
    "rebase": "rebase",
    "restore": "restore",
    "migration-safety": "migration_safety",
    "verify": "verify",
}


def _command(name: str):
    return importlib.import_module(f"db_migrate.runner.commands.{_COMMANDS[name]}").run


# The goal a user runs to get each runner command again.
_GOALS = {
    "migrate": "db-migrate --dry-run",
    "accept": "db-migrate --accept-changed --dry-run --reason=...",
    "sql": "db-migrate --sql",
    "syntax": "lint",
    "status": "db-status",
    "create": "db-create-migration",
    "rebase": "db-rebase --dry-run",
    "restore": "db-restore",
    "verify": "db-verify",
    "verify-component": "db-verify",
}


def reproduce(plan: RunnerPlan) -> str:
    return f"pants {_GOALS.get(plan.command, 'db-' + plan.command)} {plan.selector}"


def our_bug(plan: RunnerPlan, error: BaseException) -> str:
    return mask(
        f"❌ Error: {plan.component}: unexpected {error_line(error)}\n\n"
        "Details: this is a bug in pants-db-migrate, not in your migrations.\n"
        "Rerun with DB_MIGRATE_DEBUG=1 for the traceback and report it."
    )


def main(argv: list) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m db_migrate.runner PLAN.json (run through `pants db-migrate`)",
            file=sys.stderr,
        )
        return 2
    plan = RunnerPlan.from_json(Path(argv[0]).read_text())
    outcome = Outcome(component=plan.component, command=plan.command)
    code = 0
    # Buffered: progress output is flushed in batches (see runner/live.py), messages explicitly.
    sys.stdout.reconfigure(line_buffering=False, write_through=False)
    if plan.option("output") == "json":
        # The goal prints the JSON report on stdout; our text (and our children's) goes to stderr.
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        result = _command(plan.command)(plan, os.environ, outcome)
        if isinstance(result, int) and not isinstance(result, bool):
            code = result  # a command that reported its own failures (e.g. verify's children)
    except ProblemError as e:
        outcome.error = e.problem
        if outcome.status not in ("failed",):
            outcome.status = "error"
        sys.stdout.flush()
        print(e.problem.render(), file=sys.stderr, flush=True)
        code = EXIT_FAILED
    except KeyboardInterrupt:
        outcome.status = "interrupted"
        print(f"\n❌ Error: {plan.component}: interrupted", file=sys.stderr, flush=True)
        code = 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: no tracebacks for users
        if os.environ.get("DB_MIGRATE_DEBUG"):
            raise
        outcome.status = "error"
        sys.stdout.flush()
        problem = user_code_problem(e, plan.component, reproduce(plan))
        if problem is not None:
            outcome.error = problem
            print(problem.render(), file=sys.stderr, flush=True)
        else:
            print(our_bug(plan, e), file=sys.stderr, flush=True)
        code = EXIT_FAILED
    outcome.write(os.environ.get("DB_MIGRATE_RESULT_FILE"))
    return code


def _profiled(argv: list) -> int:
    """DB_MIGRATE_PROFILE=FILE: write cProfile stats of this run to FILE (for our own benchmarks)."""
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(main, argv)
    finally:
        profiler.dump_stats(os.environ["DB_MIGRATE_PROFILE"])


if __name__ == "__main__":
    sys.exit(
        _profiled(sys.argv[1:]) if os.environ.get("DB_MIGRATE_PROFILE") else main(sys.argv[1:])
    )

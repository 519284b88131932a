"""Entry point of the runner: `python -m db_migrate.runner PLAN.json` inside the resolved venv.

Every expected failure is a `ProblemError`: rendered in docs/specification.md's format, exit code 1,
no traceback. Anything else is a bug of ours: one line, and the traceback only with
DB_MIGRATE_DEBUG=1.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path
from typing import Dict, Tuple

from db_migrate.core.contract import (
    BATCHABLE,
    ContractError,
    RunnerBatch,
    RunnerCommand,
    RunnerPlan,
    read_request,
)
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import ProblemError, mask
from db_migrate.runner import timing
from db_migrate.runner.usercode import error_line, user_code_problem

EXIT_FAILED = 1


# Each command's module (its `run`, taking a `RunnerPlan` of that command's options), imported
# only when that command runs: db-status need not pay for importing what db-migrate, db-verify or
# the safety lint use.
COMMAND_MODULES: Dict[RunnerCommand, str] = {
    RunnerCommand.MIGRATE: "migrate",
    RunnerCommand.ACCEPT: "accept",
    RunnerCommand.SQL: "sql",
    RunnerCommand.SYNTAX: "syntax",
    RunnerCommand.DEVSERVER: "devserver",
    RunnerCommand.STATUS: "status",
    RunnerCommand.CREATE: "create",
    RunnerCommand.REBASE: "rebase",
    RunnerCommand.RESTORE: "restore",
    RunnerCommand.MIGRATION_SAFETY: "migration_safety",
    RunnerCommand.VERIFY: "verify",
    RunnerCommand.EXPECTED_SCHEMA: "expected_schema",
    RunnerCommand.SNAPSHOT: "snapshot",
    RunnerCommand.LOAD_SNAPSHOT: "load_snapshot",
}


def command_module(command: RunnerCommand):
    return importlib.import_module(f"db_migrate.runner.commands.{COMMAND_MODULES[command]}")


# The goal a user runs to get each runner command again.
GOALS: Dict[RunnerCommand, str] = {
    RunnerCommand.MIGRATE: "db-migrate --dry-run",
    RunnerCommand.ACCEPT: "db-migrate --accept-changed --dry-run --reason=...",
    RunnerCommand.SQL: "db-migrate --sql",
    RunnerCommand.SYNTAX: "lint",
    RunnerCommand.DEVSERVER: "db-dev-server",
    RunnerCommand.STATUS: "db-status",
    RunnerCommand.CREATE: "db-create-migration",
    RunnerCommand.REBASE: "db-rebase --dry-run",
    RunnerCommand.RESTORE: "db-restore",
    RunnerCommand.MIGRATION_SAFETY: "lint",
    RunnerCommand.VERIFY: "db-verify",
    RunnerCommand.EXPECTED_SCHEMA: "db-status --drift",
    RunnerCommand.SNAPSHOT: "db-migrate --from-snapshot",
    RunnerCommand.LOAD_SNAPSHOT: "db-migrate --from-snapshot",
}


def reproduce(plan: RunnerPlan) -> str:
    return f"pants {GOALS[plan.command]} {plan.selector}"


def our_bug(plan: RunnerPlan, error: BaseException) -> str:
    return mask(
        f"❌ Error: {plan.component}: unexpected {error_line(error)}\n\n"
        "Details: this is a bug in pants-db-migrate, not in your migrations.\n"
        "Rerun with DB_MIGRATE_DEBUG=1 for the traceback and report it."
    )


def _server_fault(plan: RunnerPlan, error: BaseException):
    """A failure of the server or the network that no command told (before any was watched)."""
    from db_migrate.runner.faults.classify import symptom
    from db_migrate.runner.faults.report import fault_without_evidence

    seen = symptom(error)
    if seen is None:
        return None
    return fault_without_evidence(plan.component, plan.selector, seen)


def main(argv: list) -> int:
    return run_request(argv)[0]


def run_request(argv: list) -> Tuple[int, bool]:
    """The exit code, and whether the process may end at once (`leave`): a read-only command,
    or a db-migrate that found nothing to do, has closed everything it opened."""
    entered = time.time()
    if len(argv) != 1:
        print(
            "usage: python -m db_migrate.runner PLAN.json (run through `pants db-migrate`)",
            file=sys.stderr,
        )
        return 2, False
    try:
        request = read_request(Path(argv[0]).read_text())
    except ContractError as e:
        print(
            f"❌ Error: the migration runner cannot read its plan: {e}\n\n"
            "Details: this is a bug in pants-db-migrate (the plugin and the runner disagree),"
            " not in your migrations.",
            file=sys.stderr,
        )
        return EXIT_FAILED, False
    # Buffered: progress output is flushed in batches (see runner/live.py), messages explicitly.
    sys.stdout.reconfigure(line_buffering=False, write_through=False)
    if isinstance(request, RunnerBatch):
        from db_migrate.runner.batch import run_batch

        code = run_batch(request, run_plan, os.environ.get("DB_MIGRATE_RESULT_FILE"))
        timing.report(os.environ, "+".join(p.component for p in request.plans), entered)
        return code, True
    if request.shared.output == "json":
        # The goal prints the JSON report on stdout; our text (and our children's) goes to stderr.
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    code, outcome = run_plan(request)
    outcome.write(os.environ.get("DB_MIGRATE_RESULT_FILE"))
    timing.report(os.environ, request.component, entered)
    return code, _nothing_open(request, outcome)


def _nothing_open(plan: RunnerPlan, outcome: Outcome) -> bool:
    """Read-only, a snapshot's load (its connections closed, its pg_restore children waited for),
    or a no-op db-migrate answered without loading Alembic: no user code, whose exit handlers
    must run, was imported."""
    if plan.command in BATCHABLE:
        return True
    if "alembic" in sys.modules:
        return False
    if plan.command is RunnerCommand.LOAD_SNAPSHOT:
        return True
    return plan.command is RunnerCommand.MIGRATE and outcome.status == "up-to-date"


def leave(code: int) -> None:
    """End the process now that its output and result file are written, without the
    interpreter's teardown (freeing every module psycopg loaded, one by one): time the user
    waits for, and nothing of a finished read-only run needs it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_plan(plan: RunnerPlan) -> Tuple[int, Outcome]:
    """One plan's command: its exit code and outcome, every expected failure printed in the
    specification's format on stderr (a batch runs this in a thread per plan)."""
    outcome = Outcome(component=plan.component, command=plan.command.value)
    code = 0
    try:
        result = command_module(plan.command).run(plan, os.environ, outcome)
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
        problem = _server_fault(plan, e) or user_code_problem(e, plan.component, reproduce(plan))
        if problem is not None:
            outcome.error = problem
            print(problem.render(), file=sys.stderr, flush=True)
        else:
            print(our_bug(plan, e), file=sys.stderr, flush=True)
        code = EXIT_FAILED
    return code, outcome


def _profiled(argv: list) -> int:
    """DB_MIGRATE_PROFILE=FILE: write cProfile stats of this run to FILE (for our own benchmarks)."""
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(main, argv)
    finally:
        profiler.dump_stats(os.environ["DB_MIGRATE_PROFILE"])


if __name__ == "__main__":
    if os.environ.get("DB_MIGRATE_PROFILE"):
        sys.exit(_profiled(sys.argv[1:]))
    exit_code, at_once = run_request(sys.argv[1:])
    if at_once:
        leave(exit_code)
    sys.exit(exit_code)

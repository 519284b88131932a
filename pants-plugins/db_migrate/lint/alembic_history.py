"""`pants lint`: the static pre-flight of every component, with no database at all.

CI catches diverged heads, dangling `down_revision`s, duplicate ids, cycles, unparsable revision
files and broken Alembic configs here, from the same cached rules `db-migrate` uses.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence, Tuple

from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    DigestEntries,
    FileContent,
    FileEntry,
)
from pants.engine.process import FallibleProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import HydratedSources, HydrateSourcesRequest
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import pluralize

from db_migrate.core import report
from db_migrate.core.contract import RunnerCommand, RunnerPlan, SyntaxOptions
from db_migrate.core.file_memo import FileMemo
from db_migrate.core.report import Problem
from db_migrate.core.source_archive import pack
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import (
    LeanRunnerEnvironmentRequest,
    RunnerCheckRequest,
    RunnerEnvironment,
)
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


FILES_PER_CHECK = 1000
ARCHIVE = "__revision_files__.zip"  # a check's files, in its sandbox


@dataclass(frozen=True)
class SyntaxCheck:
    results: Tuple[FallibleProcessResult, ...]


class CompiledFiles:
    """Revision files that compiled cleanly, by (runner environment, path, content digest), kept
    for the life of pantsd.

    The engine re-runs a component's syntax check when any of its files changes; without this,
    an edit of one revision compiled its whole group (about 1,000 files) again. Compiling is a
    pure function of the interpreter (the runner environment's digest) and the file, so the memo
    can never be stale. Only clean files are kept: a broken one is compiled (and its error
    reported) on every run.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._clean: FileMemo[bool] = FileMemo(limit)

    def unchecked(self, runner: Digest, entries: Iterable[FileEntry]) -> Tuple[FileEntry, ...]:
        key = runner.fingerprint
        return tuple(
            e for e in entries if not self._clean.get((key, e.path, e.file_digest.fingerprint))
        )

    def add(self, runner: Digest, entries: Iterable[FileEntry]) -> None:
        for e in entries:
            self._clean.put((runner.fingerprint, e.path, e.file_digest.fingerprint), True)


COMPILED = CompiledFiles()


def clean_paths(group: Sequence[str], result: FallibleProcessResult) -> Tuple[str, ...]:
    """The files of a finished check that compiled without error (none if the check itself failed)."""
    if result.exit_code != 0:
        return ()
    broken = {e["path"] for e in _reported_errors(result)}
    return tuple(path for path in group if path not in broken)


def _reported_errors(result: FallibleProcessResult) -> list:
    return json.loads(result.stdout.decode().strip().splitlines()[-1])["errors"]


def file_groups(
    files: Sequence[str], per_group: int = FILES_PER_CHECK
) -> Tuple[Tuple[str, ...], ...]:
    """The files in groups of about `per_group`, each file's group fixed by its path (a hash):
    adding or editing one revision changes one group's files, so only that group is checked
    again and the others come from the cache."""
    count = max(1, -(-len(files) // per_group))
    groups: Tuple[list, ...] = tuple([] for _ in range(count))
    for path in files:
        groups[int(hashlib.sha1(path.encode()).hexdigest()[:8], 16) % count].append(path)
    return tuple(tuple(group) for group in groups if group)


@rule(desc="Compile the revision files", level=LogLevel.DEBUG)
async def syntax_check(setup: ComponentSetup) -> SyntaxCheck:
    fs = setup.field_set
    hydrated, runner = await MultiGet(
        Get(HydratedSources, HydrateSourcesRequest(fs.sources)),
        Get(RunnerEnvironment, LeanRunnerEnvironmentRequest()),
    )
    entries = await Get(DigestEntries, Digest, hydrated.snapshot.digest)
    by_path = {e.path: e for e in entries if isinstance(e, FileEntry)}
    # With pantsd, after an edit only the edited files are left to compile.
    todo = COMPILED.unchecked(runner.digest, (by_path[path] for path in setup.files))
    groups = file_groups([e.path for e in todo])
    # From the entries (path and content digest), not `DigestSubset`: matching a thousand paths
    # as globs against the whole snapshot costs seconds at 5,000 files.
    digests = await MultiGet(
        Get(Digest, CreateDigest([by_path[path] for path in group])) for group in groups
    )
    contents = await MultiGet(Get(DigestContents, Digest, digest) for digest in digests)
    archives = await MultiGet(
        Get(Digest, CreateDigest([FileContent(ARCHIVE, pack((c.path, c.content) for c in files))]))
        for files in contents
    )
    results = await MultiGet(
        Get(
            FallibleProcessResult,
            RunnerCheckRequest(
                fs,
                RunnerPlan(
                    command=RunnerCommand.SYNTAX,
                    component=setup.component,
                    selector=setup.selector,
                    config=fs.alembic_config.value,
                    url_env=fs.url_env,
                    buildroot="",
                    options=SyntaxOptions(paths=group, archive=ARCHIVE),
                ).to_json(),
                f"Compile {pluralize(len(group), 'revision file')} of {setup.component}",
                files=archive,
            ),
        )
        for group, archive in zip(groups, archives)
    )
    for group, result in zip(groups, results):
        COMPILED.add(runner.digest, (by_path[path] for path in clean_paths(group, result)))
    return SyntaxCheck(tuple(results))


@rule(desc="Check Alembic histories", level=LogLevel.DEBUG)
async def lint_alembic_history(
    request: AlembicHistoryLintRequest.Batch[AlembicMigrationsFieldSet, Any]
) -> LintResult:
    setups = await MultiGet(
        Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in request.elements
    )
    # Full syntax of every file, compiled by the interpreter the migrations run on (cached per content).
    checks = await MultiGet(Get(SyntaxCheck, ComponentSetup, setup) for setup in setups)
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


def _syntax_problems(setup: ComponentSetup, check: SyntaxCheck) -> list:
    already = {line.split(":")[0] for p in setup.problems for line in p.details}
    failed = next((result for result in check.results if result.exit_code != 0), None)
    if failed is not None:
        return [
            Problem(
                title=f"Cannot check the revision files of {setup.component}",
                details=tuple(
                    (failed.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[
                        :3
                    ]
                ),
                actions=("Run `pants lint` again with -ldebug and report the output",),
                kind="syntax_check_failed",
            )
        ]
    errors = [error for result in check.results for error in _reported_errors(result)]
    order = {path: i for i, path in enumerate(setup.files)}
    # In the files' order, as a single check of every file reported them.
    errors.sort(key=lambda e: order.get(e["path"], len(order)))
    return [
        report.revision_file_problem(e["path"], e["line"], e["message"])
        for e in errors
        if e["path"] not in already
    ]


def rules():
    return [*collect_rules(), *AlembicHistoryLintRequest.rules()]

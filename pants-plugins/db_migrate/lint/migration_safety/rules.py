"""`pants lint` (migration-safety): each revision's SQL checked by squawk and our rules, one cached process each.

A revision's process sees the component's environment (venv, env.py and what it imports, the
ini, the runner) without any revision file but its own, plus squawk from the tool's lockfile: so
its cache key is exactly what can change its result, and editing one revision of a history of
hundreds re-lints that one revision.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from pants.backend.python.util_rules.pex import VenvPex, VenvPexRequest
from pants.backend.python.util_rules.pex_environment import PexEnvironment
from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
)
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import HydratedSources, HydrateSourcesRequest
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from db_migrate.core.contract import RunnerPlan
from db_migrate.core.report import Problem
from db_migrate.core.revision_file import read_revision_header
from db_migrate.lint.migration_safety.report import ComponentSafety, select_revisions
from db_migrate.lint.migration_safety.subsystem import MigrationSafety
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import (
    PLAN_FILE,
    REMOTE_CACHE_PATIENCE_MS,
    HermeticRunnerEnvironment,
    RunnerEnvironmentRequest,
)
from db_migrate.target_types import AlembicMigrationsFieldSet

COMMAND = "migration-safety"


NO_RESOLVE = Problem(
    title="squawk has no lockfile",
    details=(
        "[migration-safety].install_from_resolve names no resolve to install squawk-cli from",
    ),
    actions=(
        'Set it in pants.toml: [migration-safety] install_from_resolve = "migration-safety"',
        "That resolve's lockfile must lock squawk-cli (3rdparty/python/migration-safety.lock here)",
    ),
    kind="migration_safety_no_resolve",
)


class MigrationSafetyRequest(LintTargetsRequest):
    field_set_type = AlembicMigrationsFieldSet
    tool_subsystem = MigrationSafety
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


@dataclass(frozen=True)
class SafetyEnvironmentRequest:
    field_set: AlembicMigrationsFieldSet
    excluded: Tuple[str, ...]  # the other revision files, the release pins, the template


@dataclass(frozen=True)
class SafetyEnvironment:
    """The component's runner environment (without URLs) minus its history, plus squawk."""

    digest: Digest
    argv0: str
    squawk: str
    env: FrozenDict[str, str]
    append_only_caches: FrozenDict[str, str]


@dataclass(frozen=True)
class Squawk:
    """squawk installed from `[migration-safety].install_from_resolve`, ready for a sandbox."""

    digest: Digest
    argv0: str
    append_only_caches: FrozenDict[str, str]


@rule(desc="Install squawk", level=LogLevel.DEBUG)
async def install_squawk(tool: MigrationSafety, pex_env: PexEnvironment) -> Squawk:
    venv = await Get(
        VenvPex,
        VenvPexRequest(
            tool.to_pex_request(),
            pex_env.in_sandbox(working_directory=None),
            bin_names=("squawk",),
        ),
    )
    return Squawk(venv.digest, venv.bin["squawk"].argv0, FrozenDict(venv.append_only_caches or {}))


@rule(desc="Prepare the migration-safety environment", level=LogLevel.DEBUG)
async def safety_environment(request: SafetyEnvironmentRequest) -> SafetyEnvironment:
    runner_env, squawk = await MultiGet(
        Get(HermeticRunnerEnvironment, RunnerEnvironmentRequest(request.field_set)),
        Get(Squawk),
    )
    without_history = await Get(
        Digest,
        DigestSubset(runner_env.digest, PathGlobs(["**", *(f"!{p}" for p in request.excluded)])),
    )
    digest = await Get(Digest, MergeDigests([without_history, squawk.digest]))
    caches = {**runner_env.append_only_caches, **squawk.append_only_caches}
    return SafetyEnvironment(
        digest, runner_env.argv0, squawk.argv0, runner_env.env, FrozenDict(caches)
    )


@dataclass(frozen=True)
class RevisionSafetyRequest:
    field_set: AlembicMigrationsFieldSet
    environment: SafetyEnvironment
    revision: str
    path: str
    parents: Tuple[str, ...]  # down revisions and depends_on: stand-ins in the sandbox
    revision_file: Digest  # the file alone, at its path


@dataclass(frozen=True)
class RevisionSafety:
    json: str  # the runner's result (see runner/safety.py)


def _timeout_set(value: str) -> bool:
    """A PostgreSQL duration that is not 0 (the target's fields are validated durations)."""
    return re.fullmatch(r"\s*0*\s*[a-z]*\s*", value or "") is None


def _plan(request: RevisionSafetyRequest, tool: MigrationSafety) -> str:
    fs = request.field_set
    return RunnerPlan(
        command=COMMAND,
        component=fs.component_name,
        selector=fs.address.spec,
        config=fs.alembic_config.value,
        url_env=fs.url_env,
        buildroot="",
        options={
            "revision": request.revision,
            "path": request.path,
            "parents": list(request.parents),
            "squawk": request.environment.squawk,
            "squawk_args": list(tool.args),
            "exclude": list(tool.exclude),
            # Only whether they are set: changing 30s to 60s must not re-lint a whole history.
            "timeouts_set": _timeout_set(fs.lock_timeout.value)
            or _timeout_set(fs.statement_timeout.value),
        },
    ).to_json()


@dataclass(frozen=True)
class RevisionSafetyProcess:
    """The process `revision_safety` runs, built apart from running it, so what goes into its
    cache key can be checked without squawk or a venv (`rules_test.py`)."""

    process: Process


@rule(desc="Prepare one revision's migration-safety check", level=LogLevel.DEBUG)
async def revision_safety_process(
    request: RevisionSafetyRequest, tool: MigrationSafety
) -> RevisionSafetyProcess:
    plan = await Get(Digest, CreateDigest([FileContent(PLAN_FILE, _plan(request, tool).encode())]))
    env = request.environment
    digest = await Get(Digest, MergeDigests([env.digest, request.revision_file, plan]))
    return RevisionSafetyProcess(
        Process(
            argv=(env.argv0, f"{{chroot}}/{PLAN_FILE}"),
            env={**env.env, "PYTHONUNBUFFERED": "1"},
            input_digest=digest,
            append_only_caches=env.append_only_caches,
            description=f"migration-safety {request.field_set.component_name} {request.revision}",
            level=LogLevel.DEBUG,
            remote_cache_speculation_delay_millis=REMOTE_CACHE_PATIENCE_MS,
        )
    )


@rule(desc="Check one revision's migration safety", level=LogLevel.DEBUG)
async def revision_safety(request: RevisionSafetyRequest) -> RevisionSafety:
    prepared = await Get(RevisionSafetyProcess, RevisionSafetyRequest, request)
    result = await Get(FallibleProcessResult, Process, prepared.process)
    lines = result.stdout.decode(errors="replace").strip().splitlines()
    if result.exit_code == 0 and lines:
        return RevisionSafety(lines[-1])
    problem = {
        "title": f"Cannot check the migration safety of {request.revision}",
        "details": (result.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[
            -5:
        ],
        "actions": ["Run `pants lint` again with -ldebug and report the output"],
        "kind": "migration_safety_failed",
    }
    return RevisionSafety(
        json.dumps(
            {
                "revision": request.revision,
                "path": request.path,
                "findings": [],
                "ignored": [],
                "problems": [problem],
            }
        )
    )


def _environment_request(setup: ComponentSetup) -> SafetyEnvironmentRequest:
    fs = setup.field_set
    # The template of new revisions plays no part in rendering one either.
    excluded = [*setup.files, posixpath.join(fs.address.spec_path, "script.py.mako")]
    if fs.release_pins.value:
        excluded.append(posixpath.join(fs.address.spec_path, fs.release_pins.value))
    return SafetyEnvironmentRequest(fs, tuple(sorted(excluded)))


def _skipped(setup: ComponentSetup) -> ComponentSafety:
    problem = Problem(
        title=f"Cannot check the migration safety of {setup.component}",
        details=(
            f"its history has {len(setup.problems)} problem(s) that the alembic-history lint reports",
        ),
        actions=(f"pants lint --only=alembic-history {setup.selector}",),
        kind="migration_safety_history",
    )
    return ComponentSafety(
        setup.component, setup.selector, select_revisions((), (), True), (), (problem,)
    )


@dataclass(frozen=True)
class ComponentSafetyRequest:
    setup: ComponentSetup
    everything: bool


@rule(desc="Check a component's migration safety", level=LogLevel.DEBUG)
async def component_safety(request: ComponentSafetyRequest) -> ComponentSafety:
    """Every selected revision of one component, each its own cached process."""
    setup, everything = request.setup, request.everything
    if setup.problems:
        return _skipped(setup)
    selection = select_revisions(setup.revisions, setup.release_pins, everything)
    environment, sources = await MultiGet(
        Get(SafetyEnvironment, SafetyEnvironmentRequest, _environment_request(setup)),
        Get(HydratedSources, HydrateSourcesRequest(setup.field_set.sources)),
    )
    files = await MultiGet(
        Get(Digest, DigestSubset(sources.snapshot.digest, PathGlobs([r.path])))
        for r in selection.revisions
    )
    results = await MultiGet(
        Get(
            RevisionSafety,
            RevisionSafetyRequest(
                setup.field_set,
                environment,
                r.revision,
                r.path,
                (*r.down_revisions, *r.depends_on),
                file,
            ),
        )
        for r, file in zip(selection.revisions, files)
    )
    return ComponentSafety(
        setup.component, setup.selector, selection, tuple(r.json for r in results)
    )


@dataclass(frozen=True)
class NewRevisionSafetyRequest:
    """A file written during this run (db-create-migration), which the engine has not read."""

    setup: ComponentSetup
    path: str
    content: bytes


@dataclass(frozen=True)
class NewRevisionSafety:
    safety: Optional[ComponentSafety]  # None: [migration-safety].skip


@rule(desc="Check a new revision's migration safety", level=LogLevel.DEBUG)
async def new_revision_safety(
    request: NewRevisionSafetyRequest, tool: MigrationSafety
) -> NewRevisionSafety:
    if tool.skip or not tool.install_from_resolve:
        return NewRevisionSafety(None)
    setup, path = request.setup, request.path
    revision = read_revision_header(path, request.content)
    environment, file = await MultiGet(
        Get(SafetyEnvironment, SafetyEnvironmentRequest, _environment_request(setup)),
        Get(Digest, CreateDigest([FileContent(path, request.content)])),
    )
    parents = (*revision.down_revisions, *revision.depends_on)
    result = await Get(
        RevisionSafety,
        RevisionSafetyRequest(setup.field_set, environment, revision.revision, path, parents, file),
    )
    selection = select_revisions((revision,), (), True)
    return NewRevisionSafety(
        ComponentSafety(setup.component, setup.selector, selection, (result.json,))
    )


async def report_new_revision(
    say: Callable[[str], None], setup: ComponentSetup, outcome: Dict[str, Any], build_root: str
) -> None:
    """db-create-migration: the lint's findings on the file it wrote, under the next steps."""
    created = outcome.get("created")
    if not created:
        return
    path = created["path"]
    try:
        with open(os.path.join(build_root, path), "rb") as f:
            content = f.read()
    except OSError:
        return
    found = await Get(NewRevisionSafety, NewRevisionSafetyRequest(setup, path, content))
    if found.safety is not None:
        say("\nMigration safety (what `pants lint` will say about it):\n" + found.safety.render())


def _reports(components: Iterable[ComponentSafety]) -> Tuple[FileContent, ...]:
    return tuple(
        FileContent(
            f"{c.component}.json",
            (json.dumps(c.report(), indent=2, sort_keys=True) + "\n").encode(),
        )
        for c in components
    )


@rule(desc="Check migration safety", level=LogLevel.DEBUG)
async def lint_migration_safety(
    request: MigrationSafetyRequest.Batch[AlembicMigrationsFieldSet, Any], tool: MigrationSafety
) -> LintResult:
    if not tool.install_from_resolve:
        return LintResult(
            exit_code=1,
            stdout=NO_RESOLVE.render() + "\n",
            stderr="",
            linter_name=MigrationSafetyRequest.tool_name,
            partition_description=None,
        )
    setups = await MultiGet(
        Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in request.elements
    )
    components = await MultiGet(
        Get(ComponentSafety, ComponentSafetyRequest(setup, tool.all))
        for setup in sorted(setups, key=lambda s: s.component)
    )
    report = await Get(Digest, CreateDigest(_reports(components)))
    return LintResult(
        exit_code=1 if any(c.failed for c in components) else 0,
        stdout="\n\n".join(c.render() for c in components) + "\n",
        stderr="",
        linter_name=MigrationSafetyRequest.tool_name,
        partition_description=None,
        report=report,
    )


def rules():
    return [*collect_rules(), *MigrationSafetyRequest.rules()]

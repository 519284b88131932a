"""A small repository of Alembic components for `RuleRunner` tests, and an engine to read it.

A test writes a few components (`component_files`: a BUILD, an ini, env.py, the template and a
few revision files each) with `write_files` and asks the plugin's rules about them: their
decisions in seconds, without a `./pants` subprocess, a venv or a database.

Where a rule would build a component's venv (a PEX: slow, and it needs the network), the
stand-in rules here take the real rule's place with the same shape: the component's own files
and its ini, as the real environment holds them, and a placeholder instead of the interpreter.
The rules under test then do to the stand-in what they do to the real thing (cut the URLs out of
the inis, leave the other revision files out), and the tests check the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Sequence, Tuple, Union

from pants.core.goals.lint import LintResult
from pants.core.target_types import FileTarget
from pants.core.util_rules.partitions import Partitions
from pants.engine.addresses import Address
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    FileContent,
    MergeDigests,
    PathGlobs,
)
from pants.engine.internals.native_engine import ProcessExecutionEnvironment
from pants.engine.platform import Platform
from pants.engine.process import Process, ProcessResultMetadata
from pants.engine.rules import Get, MultiGet, QueryRule, rule
from pants.testutil.rule_runner import RuleRunner
from pants.util.frozendict import FrozenDict

from db_migrate.rules import component_setup
from db_migrate.rules.cached_runner import cached_runner_process
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.runner_process import (
    LeanRunnerEnvironmentRequest,
    RunnerEnvironment,
    RunnerEnvironmentRequest,
    hermetic_runner_environment,
)
from db_migrate.target_types import AlembicMigrationsFieldSet, AlembicMigrationsTarget

# What the inis say: every part of it is something a cached process must never see.
PASSWORD = "s3cret-pw"
HOST = "db.internal.example"
URL = f"postgresql+psycopg://billing_owner:{PASSWORD}@{HOST}:6543/billing_db"
URL_PARTS = (PASSWORD, HOST, "6543", "billing_owner", "billing_db")

SOURCE_ROOTS = ("/", "/src")
STAND_IN_PYTHON = "stand-in-venv/bin/python"


@dataclass(frozen=True)
class Rev:
    """One revision file: its id, what it revises (None, an id, or several for a merge)."""

    id: str
    down: Union[None, str, Tuple[str, ...]] = None
    message: str = ""
    depends_on: Tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.id}_step.py"


def chain(*ids: str) -> Tuple[Rev, ...]:
    """A linear history: each revision revises the one before it."""
    return tuple(Rev(rev, ids[i - 1] if i else None) for i, rev in enumerate(ids))


def revision_source(rev: Rev) -> str:
    """A revision file as `alembic revision` writes it."""
    message = rev.message or f"Step {rev.id}"
    revises = ", ".join(rev.down) if isinstance(rev.down, tuple) else rev.down or ""
    depends_on = repr(rev.depends_on) if rev.depends_on else "None"
    return f'''"""{message}

Revision ID: {rev.id}
Revises: {revises}
Create Date: 2024-05-01 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = {rev.id!r}
down_revision = {rev.down!r}
branch_labels = None
depends_on = {depends_on}


def upgrade() -> None:
    op.create_table("t_{rev.id}", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("t_{rev.id}")
'''


ENV_PY = """from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"))
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"""


def ini_text(script_location: str, url: str = URL) -> str:
    return (
        "[alembic]\n"
        f"script_location = {script_location}\n"
        f"sqlalchemy.url = {url}\n"
        "version_table = alembic_version\n"
        "\n[logger_root]\nlevel = WARN\n"
    )


def component_dir(name: str) -> str:
    return f"services/{name}/migrations"


THREE_STEPS = chain("a1", "b2", "c3")


def component_files(
    name: str,
    revisions: Sequence[Rev] = THREE_STEPS,
    *,
    directory: str = "",
    ini: str = "",
    script_location: str = "%(here)s/migrations",
    fields: str = "",
    env_py: bool = True,
) -> Dict[str, str]:
    """One component: `services/<name>/alembic.ini` (its URL is `URL`) and, in
    `services/<name>/migrations`, the target, env.py, the template and `versions/`.

    `fields`: more fields of the `alembic_migrations` target, as BUILD text
    (`migration_order=-1, release_pins="releases.txt"`).
    """
    directory = directory or component_dir(name)
    ini = ini or f"services/{name}/alembic.ini"
    files = {
        ini: ini_text(script_location),
        f"{directory}/BUILD": (
            f'alembic_migrations(name="migrations", component="{name}", alembic_config="{ini}"'
            + (f", {fields}" if fields else "")
            + ")\n"
        ),
        f"{directory}/script.py.mako": '"""${message}"""\n',
        **{f"{directory}/versions/{rev.file_name}": revision_source(rev) for rev in revisions},
    }
    if env_py:
        files[f"{directory}/env.py"] = ENV_PY
    return files


def options(*args: str) -> List[str]:
    """The tests' options: the source roots, then `args`."""
    return [f"--source-root-patterns={list(SOURCE_ROOTS)!r}", *args]


def new_rule_runner(rules: Iterable[Any], *queries: QueryRule) -> RuleRunner:
    runner = RuleRunner(
        rules=[*rules, *queries],
        target_types=[AlembicMigrationsTarget, FileTarget],
    )
    runner.set_options(options())
    return runner


def field_set(runner: RuleRunner, name: str, directory: str = "") -> AlembicMigrationsFieldSet:
    """The field set of the component written by `component_files(name, directory=...)`."""
    address = Address(directory or component_dir(name), target_name="migrations")
    target = runner.get_target(address)
    return AlembicMigrationsFieldSet.create(target)


def lint(runner: RuleRunner, request_type: Any, *names: str) -> LintResult:
    """The `LintResult` of `request_type` (a `LintTargetsRequest` with a single partition) for the
    components written by `component_files(name)`, partitioned as `pants lint` does."""
    field_sets = tuple(field_set(runner, name) for name in names)
    partitions = runner.request(Partitions, [request_type.PartitionRequest(field_sets)])
    assert len(partitions) == 1
    batch = request_type.Batch("", partitions[0].elements, partitions[0].metadata)
    return runner.request(LintResult, [batch])


def rules_except(rules: Iterable[Any], *replaced: Any) -> List[Any]:
    """`rules` without the `@rule` functions `replaced` (a test puts its own in their place)."""
    dropped = {f.rule for f in replaced}
    return [r for r in rules if r not in dropped]


@rule
async def stand_in_runner_environment(request: RunnerEnvironmentRequest) -> RunnerEnvironment:
    """The component's files and its ini as the real environment holds them (untouched: URL,
    password and all), and a placeholder instead of the venv."""
    fs = request.field_set
    files, venv = await MultiGet(
        Get(
            Digest,
            PathGlobs([f"{fs.address.spec_path}/**", fs.alembic_config.value, "!**/BUILD"]),
        ),
        Get(Digest, CreateDigest([FileContent(STAND_IN_PYTHON, b"", is_executable=True)])),
    )
    return RunnerEnvironment(
        await Get(Digest, MergeDigests([files, venv])),
        "{chroot}/" + STAND_IN_PYTHON,
        FrozenDict({"PEX_EXTRA_SYS_PATH": "{chroot}/services"}),
        FrozenDict({"stand_in_venvs": ".cache/stand_in_venvs"}),
    )


@rule
async def stand_in_lean_environment(_: LeanRunnerEnvironmentRequest) -> RunnerEnvironment:
    """The runner's own environment: a placeholder interpreter and nothing of the repo."""
    venv = await Get(Digest, CreateDigest([FileContent(STAND_IN_PYTHON, b"", is_executable=True)]))
    return RunnerEnvironment(venv, "{chroot}/" + STAND_IN_PYTHON, FrozenDict(), FrozenDict())


class Described(Dict[str, Any]):
    """A prepared process as `described` gives it: what a test's own describing rule returns."""


def cached_process_runner(
    process_rule: Any, describe_rule: Any, request_type: type, ids: Sequence[str]
) -> RuleRunner:
    """A clone (a new build root, an engine of its own) of one component, `billing`, with the
    linear history `ids`, and the rules that prepare one cached runner process: `process_rule`,
    and `describe_rule`, which returns the `Described` process for a `request_type`."""
    runner = new_rule_runner(
        [
            *component_setup.rules(),
            process_rule,
            hermetic_runner_environment,
            cached_runner_process,
            stand_in_runner_environment,
            describe_rule,
        ],
        QueryRule(ComponentSetup, [AlembicMigrationsFieldSet]),
        QueryRule(Described, [request_type]),
    )
    runner.write_files(component_files("billing", chain(*ids)))
    return runner


async def described(process: Process) -> Dict[str, Any]:
    """What the tests judge a `Process`'s cache key by, as plain data (its input files as text)."""
    inputs = await Get(DigestContents, Digest, process.input_digest)
    return {
        "argv": list(process.argv),
        "env": dict(process.env),
        "cache_scope": process.cache_scope.name,
        "output_files": list(process.output_files),
        "append_only_caches": dict(process.append_only_caches),
        "inputs": {c.path: c.content.decode("utf-8", "replace") for c in inputs},
    }


def ran_here() -> ProcessResultMetadata:
    """The metadata of a process result a stand-in made up (it ran on this machine, just now)."""
    environment = ProcessExecutionEnvironment(
        environment_name=None,
        platform=Platform.create_for_localhost().value,
        docker_image=None,
        remote_execution=False,
        remote_execution_extra_platform_properties=[],
    )
    return ProcessResultMetadata(0, environment, "ran", 0)


def secrets_in(data: Any) -> List[str]:
    """The parts of `URL` that appear anywhere in `data` (a described process, say)."""
    text = json.dumps(data)
    return [part for part in URL_PARTS if part in text]

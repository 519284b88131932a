"""`pants tailor`: propose an `alembic_migrations` target for every Alembic environment without one.

An Alembic environment is a directory with an `env.py` that uses Alembic's context (and usually
`script.py.mako` and `versions/`). The component name and config come from the ini file, wherever
in the repository it is, whose `script_location` points there; without one, from the directory's
path.

Pants' own Python tailor, run in the same pass, cannot know that the revision files will belong to
the proposed target: it proposes a `python_sources` target in `versions/` (two owners for each
revision file) unless `[tailor].ignore_paths` keeps it out (README, "Steps for a repo of your own").
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from pants.core.goals.tailor import PutativeTarget, PutativeTargets, PutativeTargetsRequest
from pants.engine.fs import DigestContents, PathGlobs
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import AllTargets
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from db_migrate.core.alembic_ini import AlembicIni, AlembicIniError, parse_alembic_ini
from db_migrate.rules.component_setup import ScriptDirResult
from db_migrate.rules.selection import GENERIC_DIRECTORY_NAMES
from db_migrate.target_types import AlembicMigrationsTarget


@dataclass(frozen=True)
class PutativeAlembicMigrationsRequest(PutativeTargetsRequest):
    pass


def component_from_path(path: str) -> str:
    for part in reversed(path.split("/")):
        if part and part not in GENERIC_DIRECTORY_NAMES:
            return part.lower().replace(".", "-")
    return "default"


def target_name(directory: str) -> str:
    """`migrations`, unless that is the directory's own name: the name Pants' Python tailor gives
    the `python_sources` target it proposes there for env.py."""
    return "alembic" if posixpath.basename(directory) == "migrations" else "migrations"


def component_from_ini(ini_path: str, script_dir: str) -> str:
    stem = posixpath.basename(ini_path)[: -len(".ini")]
    if stem.startswith("alembic-") and len(stem) > len("alembic-"):
        return stem[len("alembic-") :]
    return component_from_path(script_dir)


async def _configs_by_script_dir(inis: DigestContents) -> dict:
    """The ini files by the directory their `script_location` names (any of Alembic's forms); an
    ini without an `[alembic]` section is some other tool's."""
    parsed = []
    for ini in inis:
        try:
            parsed.append(parse_alembic_ini(ini.path, ini.content.decode("utf-8", "replace")))
        except AlembicIniError:
            continue
    script_dirs = await MultiGet(Get(ScriptDirResult, AlembicIni, p) for p in parsed)
    configs: dict = {}
    for ini, found in zip(parsed, script_dirs):
        if found.script_dir:
            configs.setdefault(found.script_dir, ini.path)
    return configs


@rule(level=LogLevel.DEBUG, desc="Find Alembic environments without an alembic_migrations target")
async def find_putative_alembic_targets(
    request: PutativeAlembicMigrationsRequest, all_targets: AllTargets
) -> PutativeTargets:
    env_files, inis = await MultiGet(
        Get(DigestContents, PathGlobs, request.path_globs("env.py")),
        Get(DigestContents, PathGlobs(["**/*.ini"])),
    )
    declared = {t.address.spec_path for t in all_targets if isinstance(t, AlembicMigrationsTarget)}
    configs = await _configs_by_script_dir(inis)

    putative = []
    for env in env_files:
        text = env.content.decode("utf-8", "replace")
        if "alembic" not in text or "context" not in text:
            continue
        here = posixpath.dirname(env.path)
        if here in declared:
            continue
        config = configs.get(here)
        component = component_from_ini(config, here) if config else component_from_path(here)
        comments = () if config else ("# No ini file points here: check `alembic_config`.",)
        putative.append(
            PutativeTarget.for_target_type(
                AlembicMigrationsTarget,
                path=here,
                name=target_name(here),
                triggering_sources=("env.py",),
                kwargs={"component": component, "alembic_config": config or "alembic.ini"},
                comments=comments,
            )
        )
    return PutativeTargets(putative)


def rules():
    return [
        *collect_rules(),
        UnionRule(PutativeTargetsRequest, PutativeAlembicMigrationsRequest),
    ]

"""`pants tailor`: propose an `alembic_migrations` target for every Alembic environment without one.

An Alembic environment is a directory with an `env.py` that uses Alembic's context (and usually
`script.py.mako` and `versions/`). The component name and config come from the root ini file
whose `script_location` points there; without one, from the directory's path.
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
from db_migrate.target_types import AlembicMigrationsTarget

_NOT_A_COMPONENT = {
    "alembic",
    "migrations",
    "migration",
    "models",
    "db",
    "database",
    "versions",
    "src",
    "ai",
    "backend",
}


@dataclass(frozen=True)
class PutativeAlembicMigrationsRequest(PutativeTargetsRequest):
    pass


def component_from_path(path: str) -> str:
    for part in reversed(path.split("/")):
        if part and part not in _NOT_A_COMPONENT:
            return part.lower().replace(".", "-")
    return "default"


def component_from_ini(ini_path: str, script_dir: str) -> str:
    stem = posixpath.basename(ini_path)[: -len(".ini")]
    if stem.startswith("alembic-") and len(stem) > len("alembic-"):
        return stem[len("alembic-") :]
    return component_from_path(script_dir)


async def _configs_by_script_dir(inis: DigestContents) -> dict:
    """The root ini files by the directory their `script_location` names (any of Alembic's forms)."""
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
        Get(DigestContents, PathGlobs(["alembic*.ini", "*/alembic*.ini"])),
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
        comments = (
            ()
            if config
            else ("# No alembic*.ini at the root points here: check `alembic_config`.",)
        )
        putative.append(
            PutativeTarget.for_target_type(
                AlembicMigrationsTarget,
                path=here,
                name="migrations",
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

"""Pants plugin: database migrations for Alembic components as first-class goals."""

from db_migrate import (
    component,
    dependency_inference,
    lint,
    new_file_format,
    revision_files,
    runner_process,
    safety_lint,
    selection,
    tailor,
    verify_process,
)
from db_migrate.goals import create_migration, devserver, migrate, rebase, restore, status, verify
from db_migrate.target_types import AlembicMigrationsTarget


def target_types():
    return [AlembicMigrationsTarget]


def rules():
    return [
        *component.rules(),
        *dependency_inference.rules(),
        *lint.rules(),
        *new_file_format.rules(),
        *revision_files.rules(),
        *safety_lint.rules(),
        *runner_process.rules(),
        *selection.rules(),
        *tailor.rules(),
        *migrate.rules(),
        *devserver.rules(),
        *status.rules(),
        *create_migration.rules(),
        *rebase.rules(),
        *restore.rules(),
        *verify.rules(),
        *verify_process.rules(),
    ]

"""Pants plugin: database migrations for Alembic components as first-class goals."""

from db_migrate.goals import create_migration, devserver, migrate, rebase, restore, status, verify
from db_migrate.lint import alembic_history
from db_migrate.lint.migration_safety import rules as migration_safety
from db_migrate.lint.python_lint import new_file
from db_migrate.rules import (
    cached_runner,
    component_setup,
    dependency_inference,
    expected_schema_process,
    revision_files,
    runner_process,
    selection,
    snapshot_process,
    tailor,
    verify_process,
)
from db_migrate.target_types import AlembicMigrationsTarget


def target_types():
    return [AlembicMigrationsTarget]


def rules():
    return [
        *component_setup.rules(),
        *dependency_inference.rules(),
        *alembic_history.rules(),
        *new_file.rules(),
        *revision_files.rules(),
        *migration_safety.rules(),
        *runner_process.rules(),
        *cached_runner.rules(),
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
        *expected_schema_process.rules(),
        *snapshot_process.rules(),
    ]

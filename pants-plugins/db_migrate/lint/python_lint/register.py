"""Pants' ruff and Black for the revision files of `alembic_migrations` targets.

Enable it next to `pants.backend.experimental.python.lint.ruff` and
`pants.backend.python.lint.black`: revision files are sources of their component's
`alembic_migrations` target, not `python_source` targets, so those backends alone never see them.
"""

from db_migrate.lint.python_lint import rules as python_lint_rules


def rules():
    return python_lint_rules.rules()

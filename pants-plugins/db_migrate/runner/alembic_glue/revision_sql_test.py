"""One revision rendered alone with real Alembic: the scratch component's and every real one's."""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from db_migrate.core.contract import MigrationSafetyOptions, RunnerCommand, RunnerPlan
from db_migrate.core.outcome import Outcome
from db_migrate.core.revision_file import is_revision_file, parse_revision_file
from db_migrate.runner.alembic_glue.revision_sql import render, write_stubs
from db_migrate.runner.commands import migration_safety as safety

INI = """[alembic]
script_location = %(here)s/scratch
version_table = scratch_version
"""

ENV_PY = """from alembic import context

context.configure(
    url="postgresql+psycopg://u@h/db",
    literal_binds=True,
    transaction_per_migration=True,
    version_table=context.config.get_main_option("version_table"),
)
with context.begin_transaction():
    context.run_migrations()
"""

REVISION = '''"""Scratch

Revision ID: bbb
Revises: aaa
"""
import sqlalchemy as sa
from alembic import op

revision = "bbb"
down_revision = "aaa"
branch_labels = None
depends_on = None


def _helper():
    op.execute("UPDATE t SET x = 1")


def upgrade():
    op.add_column("t", sa.Column("x", sa.Integer(), nullable=True))
    _helper()
    with op.get_context().autocommit_block():
        op.create_index("ix_t_x", "t", ["x"], postgresql_concurrently=True)


def downgrade():
    op.drop_index("ix_t_x", table_name="t")
    op.drop_column("t", "x")
'''


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "scratch" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text(INI)
    (tmp_path / "scratch" / "env.py").write_text(ENV_PY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_only_the_revisions_own_statements_each_with_the_line_of_its_op(scratch: Path):
    path = "scratch/versions/bbb_scratch.py"
    (scratch / path).write_text(REVISION)
    # Its parent is not in the sandbox: without a stand-in Alembic cannot build the history.
    with pytest.raises(KeyError):
        render("alembic.ini", "bbb", path, "upgrade")
    write_stubs(path, ["aaa"])
    up = render("alembic.ini", "bbb", path, "upgrade")
    assert up.in_transaction
    assert [(s.sql, s.line) for s in up.statements] == [
        ("ALTER TABLE t ADD COLUMN x INTEGER;", _line_of(REVISION, "op.add_column")),
        ("UPDATE t SET x = 1;", _line_of(REVISION, 'op.execute("UPDATE')),
        ("COMMIT;", _line_of(REVISION, "autocommit_block")),
        ("CREATE INDEX CONCURRENTLY ix_t_x ON t (x);", _line_of(REVISION, "op.create_index")),
        ("BEGIN;", _line_of(REVISION, "autocommit_block")),
    ]
    down = render("alembic.ini", "bbb", path, "downgrade")
    assert [s.sql for s in down.statements] == [
        "DROP INDEX ix_t_x;",
        "ALTER TABLE t DROP COLUMN x;",
    ]
    assert not any("scratch_version" in s.sql for s in up.statements + down.statements)


def test_a_package_resource_script_location(tmp_path: Path, monkeypatch):
    """`script_location = package:dir` (appproxy's shape): Alembic finds the directory through
    the import system, the stand-ins land next to the revision, the lines still map."""
    package = tmp_path / "src" / "scratchpkg"
    (package / "alembic" / "versions").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "alembic" / "env.py").write_text(ENV_PY)
    (tmp_path / "alembic.ini").write_text(INI.replace("%(here)s/scratch", "scratchpkg:alembic"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    path = "src/scratchpkg/alembic/versions/bbb_scratch.py"
    (tmp_path / path).write_text(REVISION)
    write_stubs(path, ["aaa"])
    up = render("alembic.ini", "bbb", path, "upgrade")
    assert [s.line for s in up.statements][:2] == [
        _line_of(REVISION, "op.add_column"),
        _line_of(REVISION, 'op.execute("UPDATE'),
    ]


def _plan(path: str, revision: str, parents) -> RunnerPlan:
    return RunnerPlan(
        command=RunnerCommand.MIGRATION_SAFETY,
        component="scratch",
        selector="src/scratch:migrations",
        config="alembic.ini",
        url_env="SCRATCH_DB_URL",
        buildroot="",
        options=MigrationSafetyOptions(
            revision=revision, path=path, parents=tuple(parents), squawk="/no/squawk"
        ),
    )


def test_an_error_in_the_revision_is_reported_as_the_revisions_with_its_line(scratch: Path):
    path = "scratch/versions/ccc_broken.py"
    text = REVISION.replace('revision = "bbb"', 'revision = "ccc"').replace(
        '    op.add_column("t"', "    op.add_column(undefined_table_name"
    )
    (scratch / path).write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        safety.run(_plan(path, "ccc", ["aaa"]), {}, Outcome("scratch", "migration-safety"))
    result = json.loads(out.getvalue())
    assert result["findings"] == []
    (problem,) = (p for p in result["problems"] if "upgrade" in p["title"])
    assert problem["title"] == "Cannot render the SQL of ccc (upgrade)"
    line = _line_of(text, "undefined_table_name")
    assert problem["details"] == [
        f"{path}:{line}: NameError: name 'undefined_table_name' is not defined"
    ]


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    return next(p for p in here.parents if (p / "src" / "ai" / "backend").is_dir())


COMPONENTS = {
    "manager": "alembic.ini",
    "accountmgr": "alembic-accountmgr.ini",
    "appproxy": "alembic-appproxy.ini",
}


def _function_lines(text: str) -> dict:
    """name -> (first, last) line of each top-level function."""
    return {
        node.name: (node.lineno, node.end_lineno)
        for node in ast.parse(text).body
        if isinstance(node, ast.FunctionDef)
    }


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_every_real_revision_renders_alone_inside_its_own_functions(
    component: str, tmp_path: Path, monkeypatch
):
    """Real revisions (op helpers, enums created through op.get_bind(), data migrations):
    each statement maps to a line inside the revision's upgrade()/downgrade() or a helper of the
    file, and none is Alembic's version-table bookkeeping."""
    root = _repo_root()
    directory = f"src/ai/backend/{component}/models/alembic"
    files = sorted(p for p in (root / directory / "versions").iterdir() if is_revision_file(p.name))
    assert len(files) >= 5
    rendered = 0
    for source in files:
        # A package-resource script_location is found through the imported package: forget the
        # previous sandbox's, as a fresh process would.
        for name in [m for m in sys.modules if m == "ai" or m.startswith("ai.")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        # The sandbox's layout: the sources (env.py, the models) and this one revision file.
        sandbox = tmp_path / source.stem
        shutil.copytree(
            root / "src", sandbox / "src", ignore=shutil.ignore_patterns("versions", "__pycache__")
        )
        (sandbox / directory / "versions").mkdir()
        shutil.copy(root / COMPONENTS[component], sandbox)
        path = f"{directory}/versions/{source.name}"
        shutil.copy(source, sandbox / path)
        header = parse_revision_file(path, source.read_bytes())
        monkeypatch.chdir(sandbox)
        write_stubs(path, header.down_revisions + header.depends_on)
        text = source.read_text()
        functions = _function_lines(text)
        for direction in ("upgrade", "downgrade"):
            result = render(COMPONENTS[component], header.revision, path, direction)
            assert result.in_transaction or not result.statements, (path, direction)
            for statement in result.statements:
                assert statement.line is not None
                assert any(a <= statement.line <= b for a, b in functions.values()), (
                    path,
                    statement,
                )
                assert "alembic_version" not in statement.sql, (path, statement)
            rendered += len(result.statements)
        os.chdir(root)
    assert rendered > len(files)

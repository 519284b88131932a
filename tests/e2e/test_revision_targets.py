"""The revision files as Pants sees them: one target per component, nothing that goes stale.

Through `./pants` in a private repo copy, with one pantsd for the whole test, as a developer works.
"""

from __future__ import annotations

import json

from e2e.conftest import COMPONENTS

APPPROXY = "src/ai/backend/appproxy::"
TARGET = "src/ai/backend/appproxy/models/alembic:migrations"
VERSIONS, URL_ENV, TABLE = (
    COMPONENTS["appproxy"][0] + "/versions",
    COMPONENTS["appproxy"][1],
    COMPONENTS["appproxy"][2],
)


def test_a_deleted_revision_leaves_no_stale_glob_warning(private_repo, new_database):
    db = new_database()
    env = {URL_ENV: db.url}
    build_files = {p: p.read_text() for p in private_repo.root.glob("src/**/BUILD")}
    created = private_repo.run(
        "db-create-migration", "--message=Add worker zone", "--rev-id=c0ffee0000aa", APPPROXY
    )
    assert created.returncode == 0, created
    # The target's glob covers the new file: no BUILD file names it.
    assert {p: p.read_text() for p in private_repo.root.glob("src/**/BUILD")} == build_files
    path = private_repo.root / VERSIONS / "c0ffee0000aa_add_worker_zone.py"
    assert path.exists()
    # Every kind of command that reads the revision files sees the new one (the whole lint:
    # history, safety, ruff and Black on the revision files; the dependency graph; the runner).
    seen = private_repo.run("lint", APPPROXY)
    assert seen.returncode == 0 and "single head c0ffee0000aa" in seen.output, seen
    assert "c0ffee0000aa" in private_repo.run("peek", TARGET).stdout
    assert private_repo.run("dependencies", TARGET).returncode == 0
    assert private_repo.run("db-status", APPPROXY, env=env).returncode == 0

    path.unlink()  # `git clean`, with the same pantsd
    for args in (
        ("lint", APPPROXY),
        ("db-status", APPPROXY),
        ("peek", TARGET),
        ("dependencies", TARGET),
        ("tailor", "--check", APPPROXY),
    ):
        result = private_repo.run(*args, env=env)
        assert result.returncode == 0, result
        assert "Unmatched glob" not in result.output, result
        assert "c0ffee0000aa" not in result.output, result


def test_one_target_owns_the_history_and_infers_what_its_files_import(
    private_repo, new_database, histories
):
    """A revision importing a module nothing else in the component imports still runs: the
    target infers the revision files' imports, so the runner's sandbox has the module."""
    head = histories["appproxy"].head
    private_repo.write(
        "src/ai/backend/appproxy/migration_helpers.py",
        '"""Helpers only a revision file imports."""\n\nZONE_TABLE = "worker_zones"\n',
    )
    private_repo.write(
        f"{VERSIONS}/feed00000001_add_worker_zones.py",
        f'''"""Add worker zones

Revision ID: feed00000001
Revises: {head}
"""
from alembic import op
import sqlalchemy as sa

from ai.backend.appproxy.migration_helpers import ZONE_TABLE

revision = "feed00000001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(ZONE_TABLE, sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table(ZONE_TABLE)
''',
    )
    deps = private_repo.run("dependencies", TARGET)
    assert deps.returncode == 0, deps
    assert "src/ai/backend/appproxy/migration_helpers.py" in deps.stdout.splitlines(), deps
    assert not any("repo-files" in line for line in deps.stdout.splitlines()), deps

    db = new_database()
    migrated = private_repo.run("db-migrate", APPPROXY, env={URL_ENV: db.url})
    assert migrated.returncode == 0, migrated
    assert db.versions(TABLE) == ("feed00000001",)
    assert "worker_zones" in db.tables()

    peek = private_repo.run("peek", APPPROXY)
    assert peek.returncode == 0, peek
    targets = json.loads(peek.stdout)
    owners = [
        t["address"]
        for t in targets
        if any("feed00000001_add_worker_zones.py" in source for source in t.get("sources", ()))
    ]
    assert owners == [TARGET], owners
    # The whole-repository files target (what e2e tests copy) owns only the BUILD files here.
    copied = [t["address"] for t in targets if "repo-files" in t["address"]]
    assert copied and all(a.split(":")[0].endswith("/BUILD") for a in copied), copied

"""Fixtures for end-to-end tests: a private repo copy running `./pants`, real PostgreSQL databases."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import psycopg
import pytest
from e2e.pants_repo import PantsRepo, find_repo_files
from testsupport.postgres import dev_server_port

from db_migrate.core import history
from db_migrate.core.revision_file import is_revision_file, parse_revision_file
from db_migrate.runner.postgres.server import LocalServer

COMPONENTS = {
    "manager": ("src/ai/backend/manager/models/alembic", "MANAGER_DB_URL", "alembic_version"),
    "accountmgr": (
        "src/ai/backend/accountmgr/models/alembic",
        "ACCOUNTMGR_DB_URL",
        "alembic_version_accountmgr",
    ),
    "appproxy": (
        "src/ai/backend/appproxy/models/alembic",
        "APPPROXY_DB_URL",
        "alembic_version_appproxy",
    ),
}


def _isolated_copy(destination: Path, port: Optional[int] = None) -> PantsRepo:
    """A repo copy whose development server uses a port of its own, never the developer's
    (`port`: this one, e.g. another copy's, on purpose)."""
    copy = PantsRepo.copy_of(find_repo_files(), destination)
    port = port or dev_server_port()
    for ini in copy.root.glob("alembic*.ini"):
        ini.write_text(ini.read_text().replace("127.0.0.1:8101", f"127.0.0.1:{port}"))
    toml = copy.root / "pants.toml"
    setting = f"dev_server_port = {port}\n"
    text = toml.read_text()
    if "[db-migrations]\n" in text:
        text = text.replace("[db-migrations]\n", "[db-migrations]\n" + setting, 1)
    else:
        text += "\n[db-migrations]\n" + setting
    toml.write_text(text)
    return copy


def move_dev_port(copy: PantsRepo, old: int, new: int) -> None:
    """What a user does to give a copy's development server another port: the setting in
    pants.toml and every ini URL aimed at it."""
    for ini in copy.root.glob("alembic*.ini"):
        ini.write_text(ini.read_text().replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}"))
    toml = copy.root / "pants.toml"
    toml.write_text(
        toml.read_text().replace(f"dev_server_port = {old}\n", f"dev_server_port = {new}\n")
    )
    copy.settle()


def _shutdown(copy: PantsRepo) -> None:
    if (copy.root / ".dev-postgres" / "data" / "postmaster.pid").exists():
        copy.run("db-dev-server", "--action=stop")
    copy.stop_pantsd()


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PantsRepo]:
    """One repo copy (and pantsd) for the whole session: tests must not change its files."""
    copy = _isolated_copy(tmp_path_factory.mktemp("repo"))
    yield copy
    _shutdown(copy)


@pytest.fixture
def private_repo(tmp_path: Path) -> Iterator[PantsRepo]:
    """A repo copy of a test's own, for tests that edit files (inis, revisions)."""
    copy = _isolated_copy(tmp_path / "repo")
    yield copy
    _shutdown(copy)


@dataclass(frozen=True)
class Database:
    """A fresh database on the session's PostgreSQL, and how to reach it."""

    server: LocalServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def query(self, sql: str, *params) -> list:
        with psycopg.connect(self.server.conninfo(self.name), autocommit=True) as conn:
            cur = conn.execute(sql, params or None)
            return cur.fetchall() if cur.description else []

    def versions(self, table: str) -> tuple:
        exists = self.query("SELECT to_regclass(%s) IS NOT NULL", table)[0][0]
        if not exists:
            return ()
        return tuple(sorted(r[0] for r in self.query(f"SELECT version_num FROM {table}")))

    def tables(self) -> set:
        return {
            r[0] for r in self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }

    def enums(self) -> set:
        return {r[0] for r in self.query("SELECT typname FROM pg_type WHERE typtype = 'e'")}


_counter = [0]


@pytest.fixture
def new_database(pg_server: LocalServer):
    """A factory of fresh, empty databases (dropped at the end of the test)."""
    made = []

    def make() -> Database:
        _counter[0] += 1
        name = f"e2e_{os.getpid()}_{_counter[0]}"
        pg_server.create_database(name)
        made.append(name)
        return Database(pg_server, name)

    yield make
    for name in made:
        pg_server.drop_database(name, force=True)


@dataclass(frozen=True)
class History:
    """A component's revisions in the repo, as Alembic's RevisionMap orders them."""

    graph: history.History

    @property
    def head(self) -> str:
        (head,) = self.graph.heads
        return head

    def ordered(self) -> list:
        """Revision ids from base to head, in the order an upgrade applies them."""
        return [r.revision for r in self.graph.upgrade_plan("heads", ())]

    def parent(self, revision: str) -> tuple:
        return self.graph.get(revision).down_revisions


def load_history(component: str) -> History:
    directory = find_repo_files() / COMPONENTS[component][0] / "versions"
    revisions = [
        parse_revision_file(str(p), p.read_bytes())
        for p in sorted(directory.iterdir())
        if is_revision_file(p.name)
    ]
    return History(history.History(revisions))


@pytest.fixture(scope="session")
def histories() -> dict:
    return {name: load_history(name) for name in COMPONENTS}


REVISION_TEMPLATE = '''"""{message}

Revision ID: {revision}
Revises: {down}
Create Date: 2026-11-25 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = {down_repr}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


def add_revision(
    repo: PantsRepo,
    component: str,
    revision: str,
    down,
    message: str,
    upgrade: str = "pass",
    downgrade: str = "pass",
) -> str:
    """Write a revision file into a repo copy; bodies are code lines (indented here)."""

    def indent(code: str) -> str:
        return "\n".join("    " + line for line in code.strip().splitlines())

    relpath = (
        f"{COMPONENTS[component][0]}/versions/{revision}_{message.lower().replace(' ', '_')}.py"
    )
    repo.write(
        relpath,
        REVISION_TEMPLATE.format(
            message=message,
            revision=revision,
            down=", ".join(down) if isinstance(down, tuple) else (down or ""),
            down_repr=repr(down),
            upgrade=indent(upgrade),
            downgrade=indent(downgrade),
        ),
    )
    return relpath


def snapshot(db: Database, version_table: str = "alembic_version") -> tuple:
    """What must not change when a command is refused: revisions, tables, enums."""
    return db.versions(version_table), frozenset(db.tables()), frozenset(db.enums())

"""The three database components as the migration tests see them, and catalog helpers."""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # noqa: F401 - appproxy's env.py runs on it (SQLAlchemy loads it by name)
import psycopg
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory


def repo_root() -> Path:
    """The nearest ancestor of this file holding alembic.ini (the checkout, or a Pants sandbox)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "alembic.ini").is_file():
            return parent
    raise RuntimeError(f"No alembic.ini above {__file__}")


@dataclass(frozen=True)
class Component:
    name: str
    ini: str
    url_env_var: str
    version_table: str
    async_driver: bool = False  # its ini names postgresql+asyncpg (env.py builds an async engine)

    @property
    def metadata(self) -> sa.MetaData:
        return importlib.import_module(f"ai.backend.{self.name}.models").metadata

    def config(self, **attributes: object) -> Config:
        """The component's Alembic config, aimed at $<COMPONENT>_DB_URL when that is set.

        The URL goes into `sqlalchemy.url` as well, for env.py files that read only the ini
        (appproxy's async one, which then runs on asyncpg as it does in production).
        """
        config = Config(str(repo_root() / self.ini))
        config.attributes["configure_logger"] = False
        config.attributes.update(attributes)
        url = os.environ.get(self.url_env_var)
        if url:
            if self.async_driver:
                url = re.sub(r"^postgresql(\+\w+)?://", "postgresql+asyncpg://", url)
            config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def head(self) -> str:
        heads = self.script().get_heads()
        assert len(heads) == 1, f"{self.name} has {len(heads)} heads: {heads}"
        return heads[0]

    def revisions_base_to_head(self) -> list[str]:
        """Every revision, each after all of its ancestors."""
        return [rev.revision for rev in reversed(list(self.script().walk_revisions()))]

    # What the models declare, to be found in the PostgreSQL catalog at head.
    def model_tables(self) -> set[str]:
        return set(self.metadata.tables)

    def model_enums(self) -> set[str]:
        return {
            column.type.name
            for table in self.metadata.tables.values()
            for column in table.columns
            if isinstance(column.type, sa.Enum)
        }

    def model_indexes(self) -> set[str]:
        """Indexes, including the ones behind primary keys and unique constraints."""
        names = set()
        for table in self.metadata.tables.values():
            names |= {index.name for index in table.indexes}
            names |= {
                constraint.name
                for constraint in table.constraints
                if isinstance(constraint, (sa.PrimaryKeyConstraint, sa.UniqueConstraint))
                and constraint.columns  # a table without a primary key still has an empty one
            }
        return names


COMPONENTS = (
    Component("manager", "alembic.ini", "MANAGER_DB_URL", "alembic_version"),
    Component(
        "accountmgr", "alembic-accountmgr.ini", "ACCOUNTMGR_DB_URL", "alembic_version_accountmgr"
    ),
    Component(
        "appproxy",
        "alembic-appproxy.ini",
        "APPPROXY_DB_URL",
        "alembic_version_appproxy",
        async_driver=True,
    ),
)
MANAGER = COMPONENTS[0]


@dataclass(frozen=True)
class Catalog:
    """What PostgreSQL's catalog says about the public schema of one database."""

    conn: psycopg.Connection

    def _names(self, query: str, *params: object) -> set[str]:
        return {row[0] for row in self.conn.execute(query, params).fetchall()}

    def tables(self) -> set[str]:
        return self._names("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")

    def enums(self) -> set[str]:
        return self._names(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'public' AND t.typtype = 'e'"
        )

    def enum_values(self, name: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
            " WHERE t.typname = %s ORDER BY e.enumsortorder",
            (name,),
        ).fetchall()
        return [row[0] for row in rows]

    def indexes(self) -> set[str]:
        return self._names("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")

    def columns(self, table: str) -> set[str]:
        return self._names(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = %s",
            table,
        )

    def versions(self, version_table: str) -> set[str]:
        return self._names(f'SELECT version_num FROM "{version_table}"')

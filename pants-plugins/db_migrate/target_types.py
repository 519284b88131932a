"""The `alembic_migrations` target: one database component's Alembic history and how to reach it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from pants.backend.python.target_types import PythonResolveField
from pants.engine.addresses import Address
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    Dependencies,
    FieldSet,
    IntField,
    InvalidFieldException,
    MultipleSourcesField,
    StringField,
    StringSequenceField,
    Target,
)
from pants.util.strutil import help_text

COMPONENT_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
POSTGRES_DURATION = re.compile(r"^\d+\s*(us|ms|s|min|h|d)?$")


class MigrationComponentField(StringField):
    alias = "component"
    required = True
    help = help_text(
        """
        The database component these migrations belong to, e.g. `manager`, `accountmgr`,
        `appproxy`. Reports and errors name it; it must be unique in the repository.
        """
    )

    # Annotated like Pants' own: `pants help` reads the type of `raw_value` from them.
    @classmethod
    def compute_value(cls, raw_value: Optional[str], address: Address) -> Optional[str]:
        value = super().compute_value(raw_value, address)
        if value is not None and not COMPONENT_NAME.match(value):
            raise InvalidFieldException(
                f"The `{cls.alias}` field of {address} is `{value}`: use lowercase letters, digits, "
                "`-` and `_`, starting with a letter (e.g. `manager`)."
            )
        return value


class AlembicConfigField(StringField):
    alias = "alembic_config"
    required = True
    help = help_text(
        """
        Path of the component's Alembic ini file, relative to the build root
        (e.g. `alembic.ini`, `alembic-appproxy.ini`). Its `script_location` must be this
        target's directory; its `sqlalchemy.url` is the default database and its optional
        `version_table` the name of Alembic's version table.
        """
    )


class AlembicRevisionsField(MultipleSourcesField):
    alias = "sources"
    default = ("versions/*.py",)
    expected_file_extensions = (".py",)
    help = help_text(
        """
        The revision files, relative to this target's directory. Pants reads them without
        importing them to check the history before anything touches a database.
        """
    )

    def validate_resolved_files(self, files: Sequence[str]) -> None:
        """Pants' own check, on the files a plain suffix test cannot clear: it builds a `PurePath`
        per file, which shows in every run after an edit of a long history (docs/benchmarks.md)."""
        unclear = [f for f in files if not f.endswith(".py") or os.path.basename(f) == ".py"]
        super().validate_resolved_files(unclear)


class DatabaseUrlEnvField(StringField):
    alias = "database_url_env"
    help = help_text(
        """
        The environment variable that overrides the ini's `sqlalchemy.url` (default:
        `<COMPONENT>_DB_URL`, e.g. `MANAGER_DB_URL`). It is read when a goal runs and reaches only
        the migration process: never argv, Pants' caches or any output.
        """
    )

    def value_or_default(self, component: str) -> str:
        return self.value or f"{component.upper().replace('-', '_')}_DB_URL"


class MigrationOrderField(IntField):
    alias = "migration_order"
    default = 0
    help = help_text(
        """
        Where this component runs when one command selects several: ascending
        `migration_order`, then component name.
        """
    )


class _PostgresDurationField(StringField):
    # Annotated like Pants' own: `pants help` reads the type of `raw_value` from them.
    @classmethod
    def compute_value(cls, raw_value: Optional[str], address: Address) -> Optional[str]:
        value = super().compute_value(raw_value, address)
        if value is not None and not POSTGRES_DURATION.match(value.strip()):
            raise InvalidFieldException(
                f"The `{cls.alias}` field of {address} is `{value}`: use a PostgreSQL duration "
                "such as `30s`, `500ms`, `5min`, or `0` to disable."
            )
        return value


class LockTimeoutField(_PostgresDurationField):
    alias = "lock_timeout"
    default = "5s"
    help = help_text(
        """
        PostgreSQL `lock_timeout` for migration statements: the longest a statement waits for a
        lock. While it waits, every later query on that table queues behind it, so this is the
        longest stall a migration can cause; a statement that times out is rolled back and its
        revision retried (`lock_retries`). A bare number is milliseconds, as in PostgreSQL.
        `0` disables it (a statement waits as long as it takes).
        """
    )


class LockRetriesField(IntField):
    alias = "lock_retries"
    default = 5
    help = help_text(
        """
        How many times `db-migrate` runs a revision again after it timed out waiting for a lock
        (`lock_timeout`), pausing 1-2 s before the first retry and twice as long before each
        next one (up to a minute); the table serves its queries meanwhile. A component whose
        env.py runs every revision in one transaction retries the whole run, while nothing of it
        has committed. `0`: the first lock timeout stops the run. `db-migrate --lock-retries`
        overrides it for one run.
        """
    )

    # Annotated like Pants' own: `pants help` reads the type of `raw_value` from them.
    @classmethod
    def compute_value(cls, raw_value: Optional[int], address: Address) -> int:
        value = super().compute_value(raw_value, address)
        if value < 0:
            raise InvalidFieldException(
                f"The `{cls.alias}` field of {address} is `{value}`: use 0 (no retry) or more."
            )
        return value


class StatementTimeoutField(_PostgresDurationField):
    alias = "statement_timeout"
    default = "0"
    help = help_text(
        """
        PostgreSQL `statement_timeout` for migration statements. `0` (the default) disables it:
        data migrations may legitimately run long.
        """
    )


class ReleasePinsField(StringField):
    alias = "release_pins"
    help = help_text(
        """
        Optional release pins, relative to this target's directory: a file mapping release names
        to revisions, one `RELEASE = REVISION` per line (`#` starts a comment), or a folder of
        `<release>.json` files in Backend.AI's `revision_history` format (`{"revisions":
        [{"revision": ..., "is_head": true}, ...]}`: the pinned revision is the `is_head` entry).
        `--target=release:NAME` resolves through them and `db-status` names the release a
        database matches.
        """
    )


class VerifyMinRevisionField(StringField):
    alias = "verify_min_revision"
    help = help_text(
        """
        `db-verify` does not downgrade below this revision (for histories whose oldest steps are
        knowingly irreversible). The report says what was skipped.
        """
    )


class VerifySkipField(StringSequenceField):
    alias = "verify_skip"
    help = help_text(
        """
        Revisions whose downgrade `db-verify` does not check for schema equality (known
        irreversible or lossy steps). The report lists them.
        """
    )


class AlembicMigrationsDependenciesField(Dependencies):
    help = help_text(
        """
        Extra dependencies. Pants infers the ini file, `env.py`, `script.py.mako` and the
        Python sources they import; list here only what inference cannot see.
        """
    )


class AlembicMigrationsTarget(Target):
    alias = "alembic_migrations"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        MigrationComponentField,
        AlembicConfigField,
        AlembicRevisionsField,
        AlembicMigrationsDependenciesField,
        PythonResolveField,
        DatabaseUrlEnvField,
        MigrationOrderField,
        LockTimeoutField,
        LockRetriesField,
        StatementTimeoutField,
        ReleasePinsField,
        VerifyMinRevisionField,
        VerifySkipField,
    )
    help = help_text(
        """
        A database component's Alembic migrations: declare it in the directory that holds
        `env.py`, `script.py.mako` and `versions/`.

        The `db-migrate`, `db-status`, `db-rebase`, `db-create-migration` and `db-verify` goals
        act on these targets, e.g. `pants db-migrate src/ai/backend/manager::`.
        """
    )


@dataclass(frozen=True)
class AlembicMigrationsFieldSet(FieldSet):
    required_fields = (MigrationComponentField, AlembicConfigField, AlembicRevisionsField)

    component: MigrationComponentField
    alembic_config: AlembicConfigField
    sources: AlembicRevisionsField
    dependencies: AlembicMigrationsDependenciesField
    resolve: PythonResolveField
    database_url_env: DatabaseUrlEnvField
    migration_order: MigrationOrderField
    lock_timeout: LockTimeoutField
    lock_retries: LockRetriesField
    statement_timeout: StatementTimeoutField
    release_pins: ReleasePinsField
    verify_min_revision: VerifyMinRevisionField
    verify_skip: VerifySkipField

    @property
    def component_name(self) -> str:
        return self.component.value

    @property
    def url_env(self) -> str:
        return self.database_url_env.value_or_default(self.component.value)

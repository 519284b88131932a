"""Generated Alembic components for benchmarks: long linear histories, in a repo copy or a bare dir."""

from __future__ import annotations

import contextlib
import hashlib
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Mapping, Sequence, Tuple

ENV_PY = '''"""Generated benchmark environment: URL from ${url_env}, one transaction per revision."""
import os

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = os.environ.get("${url_env}") or config.get_main_option("sqlalchemy.url")
options = {"target_metadata": None, "version_table": config.get_main_option("version_table"), "transaction_per_migration": True}

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
'''

REVISION = '''"""Step ${i} of ${name}

Revision ID: ${rev}
Revises: ${down}
Create Date: 2026-01-01 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "${rev}"
down_revision = ${down_repr}
branch_labels = None
depends_on = None


def upgrade() -> None:
${upgrade}


def downgrade() -> None:
${downgrade}
'''


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("${" + key + "}", value)
    return template


def revision_id(name: str, i: int) -> str:
    return hashlib.sha1(f"{name}-{i}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class GeneratedComponent:
    name: str
    script_dir: Path  # the directory with env.py and versions/
    ini: Path
    url_env: str
    version_table: str
    revisions: List[str]

    @property
    def head(self) -> str:
        return self.revisions[-1]


def write_component(
    root: Path,
    name: str,
    count: int,
    *,
    body: str = "table",
    script_rel: str | None = None,
    build: bool = True,
) -> GeneratedComponent:
    """A linear history of `count` revisions under `root` with its own ini and BUILD target.

    body="table": each revision creates (and its downgrade drops) a small table;
    body="evolving": revisions that mostly change existing tables (`EvolvingSchema`);
    body="trivial": `pass`, the cheapest possible revision file.
    """
    script_rel = script_rel or f"src/bench/{name}/alembic"
    script_dir = root / script_rel
    versions = script_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    url_env = f"{name.upper()}_DB_URL"
    version_table = f"alembic_version_{name}"
    (script_dir / "env.py").write_text(_fill(ENV_PY, url_env=url_env))
    (script_dir / "script.py.mako").write_text(_mako())
    ids = [revision_id(name, i) for i in range(count)]
    evolving = EvolvingSchema(name)
    for i, rev in enumerate(ids):
        down = ids[i - 1] if i else None
        if body == "table":
            up = f'    op.create_table("t_{name}_{i}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Text))'
            dn = f'    op.drop_table("t_{name}_{i}")'
        elif body == "evolving":
            up, dn = evolving.step(i)
        else:
            up = dn = "    pass"
        (versions / f"{rev}_step_{i}.py").write_text(
            _fill(
                REVISION,
                i=str(i),
                name=name,
                rev=rev,
                down=down or "",
                down_repr=repr(down),
                upgrade=up,
                downgrade=dn,
            )
        )
    ini = root / f"alembic-{name}.ini"
    ini.write_text(
        "[alembic]\n"
        f"script_location = %(here)s/{script_rel}\n"
        "sqlalchemy.url = postgresql+psycopg://postgres@127.0.0.1:9/none\n"
        f"version_table = {version_table}\n"
    )
    if build:
        (script_dir / "BUILD").write_text(
            'python_sources(sources=["env.py", "versions/*.py"])\n\n'
            f'alembic_migrations(name="migrations", component="{name}", alembic_config="{ini.name}")\n'
        )
    return GeneratedComponent(name, script_dir, ini, url_env, version_table, ids)


class EvolvingSchema:
    """Revision bodies roughly in the proportions of Backend.AI's manager history (485 revisions
    at c0032c4, 2026-08: 14% create a table, 43% add a column, 31% move data, 23% alter a column,
    19% create an index, several per revision): one table in seven revisions, each other revision
    one change to an existing table (at 5,000: 715 tables, 2,269 added columns). The state after
    N revisions is far smaller than N tables, as in real histories; `write_component(body="table")`
    is the other extreme (one table per revision).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.tables: List[Tuple[str, List[str]]] = []  # (table, added columns)

    def step(self, i: int) -> Tuple[str, str]:
        """(upgrade body, downgrade body) of revision `i`: a pure function of `i` and the steps
        before it."""
        if i % 7 == 0:
            return self._create_table(i)
        table, columns = self.tables[(i * 7919) % len(self.tables)]
        kind = (i * 31) % 100
        if kind < 45 or not columns:
            columns.append(f"c{i}")
            return (
                f'    op.add_column("{table}", sa.Column("c{i}", sa.Text))',
                f'    op.drop_column("{table}", "c{i}")',
            )
        column = columns[(i * 13) % len(columns)]
        if kind < 70:
            return (
                f"    op.execute(\"UPDATE {table} SET {column} = name || '-{i}'\")",
                "    pass",
            )
        if kind < 85:
            return (
                f'    op.alter_column("{table}", "{column}", server_default="v{i}")',
                f'    op.alter_column("{table}", "{column}", server_default=None)',
            )
        return (
            f'    op.create_index("ix_{table}_{i}", "{table}", ["{column}"])',
            f'    op.drop_index("ix_{table}_{i}", table_name="{table}")',
        )

    def _create_table(self, i: int) -> Tuple[str, str]:
        table = f"t_{self.name}_{i}"
        self.tables.append((table, []))
        return (
            f"    op.create_table(\n"
            f'        "{table}",\n'
            f'        sa.Column("id", sa.Integer, primary_key=True),\n'
            f'        sa.Column("name", sa.Text, nullable=False),\n'
            f'        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),\n'
            f"    )\n"
            f"    op.execute(\"INSERT INTO {table} (name) VALUES ('a'), ('b'), ('c')\")",
            f'    op.drop_table("{table}")',
        )


def _mako() -> str:
    return (
        '"""${message}\n\nRevision ID: ${up_revision}\nRevises: ${down_revision | comma,n}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "revision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        'def upgrade() -> None:\n    ${upgrades if upgrades else "pass"}\n\n\n'
        'def downgrade() -> None:\n    ${downgrades if downgrades else "pass"}\n'
    )


def timed(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str], check: bool = True
) -> float:
    started = time.perf_counter()
    proc = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return elapsed


def own_dev_port(root: Path) -> int:
    """A repo copy's development server on a port of its own, never the developer's 8101: the
    setting in pants.toml and every ini URL aimed at it."""
    from testsupport.postgres import dev_server_port

    port = dev_server_port()
    for ini in root.glob("alembic*.ini"):
        ini.write_text(ini.read_text().replace("127.0.0.1:8101", f"127.0.0.1:{port}"))
    toml = root / "pants.toml"
    text = toml.read_text()
    assert "[db-migrations]\n" in text and "dev_server_port" not in text, toml
    toml.write_text(
        text.replace("[db-migrations]\n", f"[db-migrations]\ndev_server_port = {port}\n")
    )
    return port


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def interleaved(runs: int, *cases: Callable[[], float]) -> List[List[float]]:
    """Run the cases alternately (ABAB...) so machine noise hits both sides alike."""
    samples: List[List[float]] = [[] for _ in cases]
    for _ in range(runs):
        for i, case in enumerate(cases):
            samples[i].append(case())
    return samples


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PANTS_", "PEX_", "_PANTS"))}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


BRANCHY_REVISION = '''"""${message}

Revision ID: ${rev}
Revises: ${down}
Create Date: 2026-01-01 00:00:00
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "${rev}"
down_revision = ${down_repr}
branch_labels = None
depends_on = None


def upgrade() -> None:
${upgrade}


def downgrade() -> None:
${downgrade}
'''


def _ddl(table: str, i: int) -> tuple[str, str]:
    """Real DDL bodies, varied the way a long-lived history varies: tables, columns, indexes."""
    kind = i % 3
    if kind == 0:
        up = (
            f'    op.create_table(\n        "{table}",\n'
            '        sa.Column("id", sa.Integer, primary_key=True),\n'
            '        sa.Column("name", sa.String(64), nullable=False),\n'
            '        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),\n'
            "    )"
        )
        return up, f'    op.drop_table("{table}")'
    if kind == 1:
        up = (
            f'    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))\n'
            f'    op.add_column("{table}", sa.Column("note", sa.Text, nullable=True))'
        )
        return up, f'    op.drop_column("{table}", "note")\n    op.drop_table("{table}")'
    up = (
        f'    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Integer))\n'
        f'    op.create_index("ix_{table}_v", "{table}", ["v"])'
    )
    return (
        up,
        f'    op.drop_index("ix_{table}_v", table_name="{table}")\n    op.drop_table("{table}")',
    )


def write_branchy_history(versions: Path, count: int, *, salt: str, every: int = 40) -> List[str]:
    """`count` revision files in `versions/`: a main line that forks every `every` revisions into
    two short branches (2-5 revisions each) joined again by a merge revision; one head at the end.

    `salt` makes the ids (and so every file) differ between histories of the same shape. Returns
    the ids in upgrade order.
    """
    versions.mkdir(parents=True, exist_ok=True)
    for old in versions.glob("*.py"):
        old.unlink()
    ids: List[str] = []
    downs: List[tuple] = []
    tip: tuple = ()
    i = 0
    while len(ids) < count:
        remaining = count - len(ids)
        if len(ids) % every == every - 1 and remaining >= 5:
            lengths = (2 + len(ids) % 4, 2 + (len(ids) // every) % 3)
            lengths = (min(lengths[0], (remaining - 1) // 2), min(lengths[1], (remaining - 1) // 2))
            branch_tips = []
            for length in lengths:
                parent = tip
                for _ in range(length):
                    rev = hashlib.sha1(f"{salt}-{i}".encode()).hexdigest()[:12]
                    ids.append(rev)
                    downs.append(parent)
                    parent = (rev,)
                    i += 1
                branch_tips.append(parent[0])
            down = tuple(branch_tips)
        else:
            down = tip
        rev = hashlib.sha1(f"{salt}-{i}".encode()).hexdigest()[:12]
        ids.append(rev)
        downs.append(down)
        tip = (rev,)
        i += 1
    for n, (rev, down) in enumerate(zip(ids, downs)):
        up, dn = _ddl(f"t_{rev}", n)
        merge = len(down) > 1
        down_repr = "None" if not down else repr(down[0]) if not merge else repr(down)
        (versions / f"{rev}_step_{n}.py").write_text(
            _fill(
                BRANCHY_REVISION,
                message=f"Merge {', '.join(down)}" if merge else f"Step {n}: add t_{rev}",
                rev=rev,
                down=", ".join(down),
                down_repr=down_repr.replace("'", '"'),
                upgrade="    pass" if merge else up,
                downgrade="    pass" if merge else dn,
            )
        )
    return ids


@contextlib.contextmanager
def earlier_worktree(rev: str, work: Path) -> Iterator[Path]:
    """A scratch `git worktree` of `rev` in the repo these benchmarks belong to, for the time it
    takes to copy it (`--against REV`: the same cases on an earlier commit, in the same run)."""
    repo = Path(__file__).resolve().parent.parent
    tree = work / "against-worktree"
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
        )

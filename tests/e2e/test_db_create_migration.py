"""`./pants db-create-migration` in a private repo copy: files land in the workspace, and they migrate."""

from __future__ import annotations

import re

import psycopg
from e2e.conftest import COMPONENTS, add_revision

from db_migrate.core.revision_file import parse_revision_file

APPPROXY = "src/ai/backend/appproxy::"
SELECTOR = "src/ai/backend/appproxy/models/alembic:migrations"
VERSIONS = COMPONENTS["appproxy"][0] + "/versions"
TABLE = COMPONENTS["appproxy"][2]


def assert_lint_clean(repo, path: str) -> None:
    """`pants lint FILE` as a user runs it after creating a revision: every linter passes."""
    result = repo.run("lint", path)
    assert result.returncode == 0, result
    for tool in ("black", "ruff"):
        assert f"✓ {tool} succeeded." in result.stderr, result


def revision_files(repo) -> set:
    return {p.name for p in (repo.root / VERSIONS).glob("*.py")}


def created_path(result) -> str:
    match = re.search(r"^File: (\S+)$", result.stdout, re.MULTILINE)
    assert match, result
    return match.group(1)


def test_empty_revision_on_the_head_then_refusals(private_repo, histories):
    head = histories["appproxy"].head
    before = revision_files(private_repo)
    result = private_repo.run(
        "db-create-migration", "--message=Add worker labels", "--rev-id=c0ffee000001", APPPROXY
    )
    assert result.returncode == 0, result
    path = created_path(result)
    assert path == f"{VERSIONS}/c0ffee000001_add_worker_labels.py"
    assert revision_files(private_repo) == before | {"c0ffee000001_add_worker_labels.py"}
    parsed = parse_revision_file(path, private_repo.read(path))
    assert (parsed.revision, parsed.down_revisions, parsed.message) == (
        "c0ffee000001",
        (head,),
        "Add worker labels",
    )
    assert f"Revision: c0ffee000001 (revises {head})" in result.stdout
    # The seed's workflow, in order.
    steps = result.stdout.split("Next steps:\n", 1)[1].splitlines()
    assert steps[0].startswith("1. Write upgrade() and downgrade() in " + path)
    assert steps[1] == f"2. Test upgrade: pants db-migrate {SELECTOR}"
    assert (
        steps[2]
        == f"3. Test downgrade: pants db-migrate --direction=downgrade --target=-1 {SELECTOR}"
    )
    assert steps[3] == f"4. Re-upgrade: pants db-migrate {SELECTOR}"
    assert "Generating" not in result.stdout  # no sandbox paths
    # As written, the file passes the repo's own lint (ruff: no unused import; Black).
    assert_lint_clean(private_repo, path)

    files = revision_files(private_repo)
    for args, title in [
        (("--message=x", "::"), "❌ Error: Select exactly one component"),
        ((APPPROXY,), "❌ Error: A new migration needs a message"),
        (
            ("--message=x", "--rev-id=c0ffee000001", APPPROXY),
            "❌ Error: Invalid revision id 'c0ffee000001'",
        ),
    ]:
        refused = private_repo.run("db-create-migration", *args)
        assert refused.returncode != 0 and title in refused.stderr, refused
        assert "Traceback" not in refused.output
    assert revision_files(private_repo) == files

    # Diverged: the spec's multiple-heads block, nothing written.
    add_revision(private_repo, "appproxy", "d1d1d1d1d1d1", head, "Other branch")
    files = revision_files(private_repo)
    diverged = private_repo.run("db-create-migration", "--message=Third", APPPROXY)
    assert diverged.returncode != 0, diverged
    assert "❌ Error: Multiple heads detected" in diverged.stderr
    assert (
        "c0ffee000001: Add worker labels" in diverged.stderr
        and "d1d1d1d1d1d1: Other branch" in diverged.stderr
    )
    assert f"Resolve heads: pants db-rebase {SELECTOR}" in diverged.stderr
    assert "Traceback" not in diverged.output
    assert revision_files(private_repo) == files

    # Revision files are alembic_migrations sources, and ruff and Black still see them.
    other = f"{VERSIONS}/d1d1d1d1d1d1_other_branch.py"  # unused `op` and `sa`
    ruff = private_repo.run("lint", "--only=ruff", other)
    assert ruff.returncode == 1 and f"{other}:7:" in ruff.output and "F401" in ruff.output, ruff
    private_repo.write(other, private_repo.read(other).replace("def upgrade()", "def upgrade( )"))
    black = private_repo.run("lint", "--only=black", other)
    assert black.returncode == 1 and "✕ black failed." in black.stderr, black


def _dev_server_query(repo, sql: str) -> list:
    ini = repo.read("alembic-appproxy.ini")
    port = re.search(r"127\.0\.0\.1:(\d+)/appproxy", ini).group(1)
    with psycopg.connect(
        f"postgresql://postgres:develove@127.0.0.1:{port}/appproxy", autocommit=True
    ) as conn:
        return conn.execute(sql).fetchall()


def _columns(repo, table: str) -> set:
    return {
        r[0]
        for r in _dev_server_query(
            repo, f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
        )
    }


def test_autogenerate_against_the_dev_server_upgrades_and_downgrades(private_repo, histories):
    """No URL variable: the development server is started, the database created and brought to head."""
    head = histories["appproxy"].head
    files = revision_files(private_repo)
    nothing = private_repo.run(
        "db-create-migration", "--autogenerate", "--message=Nothing yet", APPPROXY
    )
    assert nothing.returncode == 0, nothing
    assert "starting the development PostgreSQL" in nothing.stdout
    assert "No changes detected" in nothing.stdout and "No revision written" in nothing.stdout
    assert revision_files(private_repo) == files
    assert _dev_server_query(private_repo, f"SELECT version_num FROM {TABLE}") == [(head,)]

    # A model change: a new column on workers.
    worker = "src/ai/backend/appproxy/models/worker.py"
    text = private_repo.read(worker)
    anchor = '    sa.Column("nodes", sa.Integer, nullable=False, server_default="1"),\n'
    assert anchor in text
    private_repo.write(
        worker, text.replace(anchor, anchor + '    sa.Column("nickname", sa.String(length=64)),\n')
    )

    created = private_repo.run(
        "db-create-migration", "--autogenerate", "--message=Add worker nickname", APPPROXY
    )
    assert created.returncode == 0, created
    assert "Detected changes:\n  - add column workers.nickname" in created.stdout
    path = created_path(created)
    body = private_repo.read(path)
    # Alembic's rendering, in the repo's style (Black's quotes) by the repo's own tools.
    assert 'op.add_column(\n        "workers",' in body or 'op.add_column("workers",' in body, body
    assert 'op.drop_column("workers", "nickname")' in body, body
    assert "Formatted with the repo's tools: " in created.stdout and "black" in created.stdout
    new = parse_revision_file(path, body)
    assert new.down_revisions == (head,)
    assert "Review the generated file" in created.stdout
    assert_lint_clean(private_repo, path)

    # The seed's workflow: upgrade, downgrade -1, upgrade.
    up = private_repo.run("db-migrate", APPPROXY)
    assert up.returncode == 0, up
    assert "nickname" in _columns(private_repo, "workers")
    down = private_repo.run("db-migrate", "--direction=downgrade", "--target=-1", APPPROXY)
    assert down.returncode == 0, down
    assert "nickname" not in _columns(private_repo, "workers")
    assert _dev_server_query(private_repo, f"SELECT version_num FROM {TABLE}") == [(head,)]
    again = private_repo.run("db-migrate", APPPROXY)
    assert again.returncode == 0, again
    assert _dev_server_query(private_repo, f"SELECT version_num FROM {TABLE}") == [(new.revision,)]

    # Models and database agree again: --empty writes an empty revision anyway.
    empty = private_repo.run(
        "db-create-migration", "--autogenerate", "--empty", "--message=Checkpoint", APPPROXY
    )
    assert empty.returncode == 0, empty
    assert "(none: an empty revision, as --empty asked)" in empty.stdout
    checkpoint = parse_revision_file(created_path(empty), private_repo.read(created_path(empty)))
    assert checkpoint.down_revisions == (new.revision,)
    assert_lint_clean(private_repo, created_path(empty))

"""`./pants db-rebase` on diverged histories built in a real git repository (a private repo copy)."""

from __future__ import annotations

import re
import subprocess

from e2e.conftest import COMPONENTS, add_revision, snapshot

from db_migrate.core.history import History
from db_migrate.core.revision_file import is_revision_file, parse_revision_file

APPPROXY = "src/ai/backend/appproxy::"
SELECTOR = "src/ai/backend/appproxy/models/alembic:migrations"
VERSIONS, URL_ENV, TABLE = COMPONENTS["appproxy"]
VERSIONS += "/versions"


def git(repo, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", *args],
        cwd=repo.root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def commit_all(repo, message: str) -> None:
    git(repo, "add", "-A", ".")
    git(repo, "commit", "-q", "-m", message)


def init_main(repo) -> None:
    (repo.root / ".gitignore").write_text(".pants.d/\n.pids/\n.dev-postgres/\n.db-backups/\n")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "the repository")


def graph_of(repo) -> History:
    directory = repo.root / VERSIONS
    return History(
        parse_revision_file(f"{VERSIONS}/{p.name}", p.read_bytes())
        for p in sorted(directory.iterdir())
        if is_revision_file(p.name)
    )


def texts(repo) -> dict:
    return {p.name: p.read_text() for p in (repo.root / VERSIONS).glob("*.py")}


def columns(db, table: str) -> set:
    return {
        r[0]
        for r in db.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", table
        )
    }


def test_merge_when_the_shared_branch_has_two_heads(private_repo, new_database, histories):
    repo, head = private_repo, histories["appproxy"].head
    init_main(repo)
    add_revision(
        repo,
        "appproxy",
        "aaaa00000001",
        head,
        "Add x table",
        "op.execute('CREATE TABLE x_one (id int)')",
        "op.execute('DROP TABLE x_one')",
    )
    add_revision(
        repo,
        "appproxy",
        "bbbb00000001",
        head,
        "Add z table",
        "op.execute('CREATE TABLE z_one (id int)')",
        "op.execute('DROP TABLE z_one')",
    )
    commit_all(repo, "two teams landed a revision each")
    before = texts(repo)

    # Rebase would edit released revisions; an unknown base ref cannot tell: both refused, nothing changed.
    forced = repo.run("db-rebase", "--strategy=rebase", APPPROXY)
    assert (
        forced.returncode != 0
        and "❌ Error: Cannot resolve appproxy's heads with --strategy=rebase" in forced.stderr
    ), forced
    assert "every head is on main" in forced.stderr
    unknown_ref = repo.run("db-rebase", "--base-ref=no-such-branch", APPPROXY)
    assert (
        unknown_ref.returncode != 0 and "git knows no `no-such-branch`" in unknown_ref.stderr
    ), unknown_ref
    dry = repo.run("db-rebase", "--dry-run", APPPROXY)
    assert dry.returncode == 0, dry
    assert "Strategy: merge (auto: every head is on main" in dry.stdout
    assert "down_revision = (aaaa00000001, bbbb00000001)" in dry.stdout
    assert texts(repo) == before
    assert "Traceback" not in forced.output + unknown_ref.output + dry.output

    result = repo.run("db-rebase", APPPROXY)
    assert result.returncode == 0, result
    assert "✅ Heads resolved: merge" in result.stdout
    created = set(texts(repo)) - set(before)
    assert len(created) == 1
    (name,) = created
    assert f"  - {VERSIONS}/{name} (new)" in result.stdout
    assert {
        k: v for k, v in texts(repo).items() if k in before
    } == before  # released files untouched
    graph = graph_of(repo)
    (merge,) = graph.heads
    merged = graph.get(merge)
    assert set(merged.down_revisions) == {"aaaa00000001", "bbbb00000001"}
    assert merged.message == "Merge aaaa00000001 (Add x table) and bbbb00000001 (Add z table)"
    body = texts(repo)[name]
    assert (
        re.search(r"def upgrade\(\) -> None:\n(.*\n)*?\s+pass\n", body)
        and "Revises: aaaa00000001, bbbb00000001" in body
    )

    db = new_database()
    up = repo.run("db-migrate", APPPROXY, env={URL_ENV: db.url})
    assert up.returncode == 0, up
    assert db.versions(TABLE) == (merge,)
    assert {"x_one", "z_one"} <= db.tables()
    assert repo.run("db-status", "--check", APPPROXY, env={URL_ENV: db.url}).returncode == 0


def test_rebase_own_branch_that_the_database_applied(private_repo, new_database, histories):
    repo, head = private_repo, histories["appproxy"].head
    db = new_database()
    env = {URL_ENV: db.url}
    init_main(repo)

    # My branch: two revisions, migrated locally, with some data.
    git(repo, "checkout", "-q", "-b", "feature")
    mine = add_revision(
        repo,
        "appproxy",
        "f00d00000001",
        head,
        "Add y table",
        "op.execute('CREATE TABLE y_one (id int)')",
        "op.execute('DROP TABLE y_one')",
    )
    add_revision(
        repo,
        "appproxy",
        "f00d00000002",
        "f00d00000001",
        "Add y column",
        "op.execute('ALTER TABLE y_one ADD COLUMN two int')",
        "op.execute('ALTER TABLE y_one DROP COLUMN two')",
    )
    commit_all(repo, "my work")
    assert repo.run("db-migrate", APPPROXY, env=env).returncode == 0
    db.query("INSERT INTO y_one (id, two) VALUES (1, 2)")
    assert db.versions(TABLE) == ("f00d00000002",)

    # Meanwhile main got a revision on the same parent; I merge main into my branch.
    git(repo, "checkout", "-q", "main")
    add_revision(
        repo,
        "appproxy",
        "cafe00000001",
        head,
        "Add x table",
        "op.execute('CREATE TABLE x_one (id int)')",
        "op.execute('DROP TABLE x_one')",
    )
    commit_all(repo, "main's work")
    git(repo, "checkout", "-q", "feature")
    git(repo, "merge", "-q", "--no-edit", "main")
    assert set(graph_of(repo).heads) == {"f00d00000002", "cafe00000001"}
    status = repo.run("db-status", APPPROXY, env=env)
    assert "State: ❌ Diverged" in status.stdout, status

    before_texts, before_db = texts(repo), snapshot(db, TABLE)
    dry = repo.run("db-rebase", "--dry-run", APPPROXY, env=env)
    assert dry.returncode == 0, dry
    assert (
        "Strategy: rebase (auto: f00d00000002's branch (2 revisions: f00d00000001, f00d00000002) is not on main"
        in dry.stdout
    )
    assert f"{mine}: down_revision {head} → cafe00000001" in dry.stdout
    assert f"it applied f00d00000002 of the branch: downgrade to {head} first" in dry.stdout
    assert "Dry run: nothing changed." in dry.stdout
    assert texts(repo) == before_texts and snapshot(db, TABLE) == before_db
    assert db.query("SELECT id, two FROM y_one") == [(1, 2)]

    result = repo.run("db-rebase", APPPROXY, env=env)
    assert result.returncode == 0, result
    assert "✅ Heads resolved: rebase" in result.stdout
    assert f"Files changed:\n  - {mine} (down_revision {head} → cafe00000001)" in result.stdout

    # Files: only the branch's first revision changed, ids kept, docstring in step, a single head.
    after_texts = texts(repo)
    changed = {name for name in before_texts if before_texts[name] != after_texts[name]}
    assert changed == {mine.rsplit("/", 1)[1]}
    assert "Revises: cafe00000001" in after_texts[mine.rsplit("/", 1)[1]]
    graph = graph_of(repo)
    assert graph.heads == ("f00d00000002",)
    assert graph.get("f00d00000001").down_revisions == ("cafe00000001",)

    # Database: it left the branch (backup taken), then ran main's revision and the branch again.
    assert db.versions(TABLE) == ("f00d00000002",)
    assert {"x_one", "y_one"} <= db.tables()
    assert "two" in columns(db, "y_one")
    assert db.query("SELECT count(*) FROM y_one") == [(0,)]  # recreated: the branch really re-ran
    backups = list((repo.root / ".db-backups").glob(f"appproxy-f00d00000002-to-{head}-*.dump"))
    assert backups and f"Backup: {backups[0]}" in result.stdout

    # And db-migrate / db-status agree.
    again = repo.run("db-migrate", APPPROXY, env=env)
    assert again.returncode == 0 and "appproxy is up-to-date at f00d00000002" in again.stdout, again
    assert repo.run("db-status", "--check", APPPROXY, env=env).returncode == 0
    assert repo.run("db-rebase", APPPROXY, env=env).stdout.startswith(
        "✅ appproxy has a single head (f00d00000002)"
    )


def test_rebase_leaves_a_database_that_did_not_apply_the_branch_alone(
    private_repo, new_database, histories
):
    repo, head = private_repo, histories["appproxy"].head
    db = new_database()
    env = {URL_ENV: db.url}
    init_main(repo)
    add_revision(repo, "appproxy", "cafe00000001", head, "Main work")
    commit_all(repo, "main's work")
    assert repo.run("db-migrate", APPPROXY, env=env).returncode == 0
    add_revision(repo, "appproxy", "f00d00000001", head, "My work")  # not committed anywhere
    before = snapshot(db, TABLE)

    result = repo.run("db-rebase", "--strategy=rebase", APPPROXY, env=env)
    assert result.returncode == 0, result
    assert "Database: not touched" in result.stdout
    assert snapshot(db, TABLE) == before == (("cafe00000001",), before[1], before[2])
    assert graph_of(repo).heads == ("f00d00000001",)
    assert not (repo.root / ".db-backups").exists()
    up = repo.run("db-migrate", APPPROXY, env=env)
    assert up.returncode == 0, up
    assert db.versions(TABLE) == ("f00d00000001",)

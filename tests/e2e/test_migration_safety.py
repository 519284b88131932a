"""`./pants lint` (migration-safety) on real revisions in a repo copy: the dangerous ones flagged
with the right rule and line, the safe one passes, ignore comments, released revisions skipped,
one cached process per revision (counted by the engine), and the per-component JSON reports."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from e2e.conftest import COMPONENTS, _isolated_copy, _shutdown, add_revision

MANAGER = "src/ai/backend/manager::"
VERSIONS = COMPONENTS["manager"][0] + "/versions"

# (revision, message, upgrade, downgrade): a chain on top of the manager's head.
REVISIONS = [
    (
        "5afe00000001",
        "Index users by email and name",
        'op.create_index("ix_users_email_username", "users", ["email", "username"])',
        'op.drop_index("ix_users_email_username", table_name="users")',
    ),
    (
        "5afe00000002",
        "Require a nickname",
        'op.add_column("users", sa.Column("nickname", sa.Text(), nullable=False))',
        'op.drop_column("users", "nickname")',
    ),
    (
        "5afe00000003",
        "Keypair queries as numeric",
        'op.alter_column("keypairs", "num_queries", type_=sa.Numeric(), existing_type=sa.BigInteger())',
        'op.alter_column("keypairs", "num_queries", type_=sa.BigInteger(), existing_type=sa.Numeric())',
    ),
    (
        "5afe00000004",
        "Safe column and index",
        "\n".join(
            [
                'op.add_column("users", sa.Column("timezone", sa.Text(), nullable=True))',
                "with op.get_context().autocommit_block():",
                '    op.create_index("ix_users_timezone", "users", ["timezone"],'
                " postgresql_concurrently=True, if_not_exists=True)",
            ]
        ),
        "\n".join(
            [
                "with op.get_context().autocommit_block():",
                '    op.drop_index("ix_users_timezone", table_name="users",'
                " postgresql_concurrently=True, if_exists=True)",
                'op.drop_column("users", "timezone")',
            ]
        ),
    ),
    (
        "5afe00000005",
        "Index sessions and require a flag",
        "\n".join(
            [
                "# migration-safety: ignore=require-concurrent-index-creation sessions is"
                " rebuilt empty by this release",
                'op.create_index("ix_sessions_priority_x", "sessions", ["priority"])',
                'op.add_column("sessions", sa.Column("flag", sa.Boolean(), nullable=False))',
            ]
        ),
        'op.drop_column("sessions", "flag")\nop.drop_index("ix_sessions_priority_x", table_name="sessions")',
    ),
    (
        "5afe00000006",
        "Add and use a kernel status",
        "\n".join(
            [
                "op.execute(\"ALTER TYPE kernelstatus ADD VALUE 'PAUSED' AFTER 'RUNNING'\")",
                "op.execute(\"UPDATE kernels SET status = 'PAUSED' WHERE status = 'SUSPENDED'\")",
            ]
        ),
        "pass",
    ),
    (
        "5afe00000007",
        "Unknown ignore",
        "# migration-safety: ignore=no-such-rule typo of a rule name\npass",
        "pass",
    ),
]


def _line(repo, relpath: str, needle: str) -> int:
    lines = repo.read(relpath).splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def _executions(result) -> int:
    match = re.search(r"local_execution_requests: (\d+)", result.output)
    assert match, result
    return int(match.group(1))


@pytest.fixture(scope="module")
def linted(tmp_path_factory, histories):
    """A repo copy with REVISIONS on the manager's head, and its first `pants lint`."""
    copy = _isolated_copy(tmp_path_factory.mktemp("safety"))
    down = histories["manager"].head
    paths = {}
    for revision, message, upgrade, downgrade in REVISIONS:
        paths[revision] = add_revision(copy, "manager", revision, down, message, upgrade, downgrade)
        down = revision
    result = copy.run("--stats-log", "lint", "--only=migration-safety", MANAGER)
    yield copy, paths, result
    _shutdown(copy)


def _report(repo) -> dict:
    return json.loads((repo.root / "dist/lint/migration-safety/manager.json").read_text())


def _found(report: dict, revision: str) -> list:
    return sorted(
        (f["rule"], f["direction"], f["level"], f["line"])
        for f in report["findings"]
        if f["revision"] == revision
    )


def test_dangerous_revisions_are_flagged_with_rule_file_and_line(linted):
    repo, paths, result = linted
    assert result.returncode == 1, result
    report = _report(repo)
    assert report["checked"] == [r[0] for r in REVISIONS]  # the released history is skipped
    assert report["released_skipped"] == 28
    index = _line(repo, paths["5afe00000001"], "op.create_index")
    assert ("require-concurrent-index-creation", "upgrade", "error", index) in _found(
        report, "5afe00000001"
    )
    assert (
        f"❌ require-concurrent-index-creation: {paths['5afe00000001']}:{index} (5afe00000001 upgrade)"
        in result.stderr
    )
    add = _line(repo, paths["5afe00000002"], "op.add_column")
    assert ("adding-required-field", "upgrade", "error", add) in _found(report, "5afe00000002")
    drop = _line(repo, paths["5afe00000002"], "op.drop_column")
    assert ("downgrade-drops-data", "downgrade", "warning", drop) in _found(report, "5afe00000002")
    alter = _line(repo, paths["5afe00000003"], "type_=sa.Numeric()")
    assert ("changing-column-type", "upgrade", "error", alter) in _found(report, "5afe00000003")
    use = _line(repo, paths["5afe00000006"], "UPDATE kernels")
    assert ("enum-value-used-in-transaction", "upgrade", "error", use) in _found(
        report, "5afe00000006"
    )
    assert ("data-change-without-downgrade", "upgrade", "warning", use) in _found(
        report, "5afe00000006"
    )
    assert "Traceback" not in result.output


def test_a_safe_revision_passes_and_an_ignore_silences_exactly_its_rule(linted):
    repo, paths, _ = linted
    report = _report(repo)
    safe = _found(report, "5afe00000004")
    assert [f for f in safe if f[2] == "error"] == [], safe
    assert [f[0] for f in safe] == ["downgrade-drops-data"]  # only the warning about its data
    ignored = _found(report, "5afe00000005")
    assert "require-concurrent-index-creation" not in [f[0] for f in ignored]
    assert ("adding-required-field", "upgrade", "error") in [f[:3] for f in ignored]
    (echo,) = (i for i in report["ignored"] if i["revision"] == "5afe00000005")
    assert echo["rule"] == "require-concurrent-index-creation" and echo["silenced"] == 1
    assert echo["reason"] == "sessions is rebuilt empty by this release"
    (unknown,) = report["problems"]
    assert unknown["title"] == "Unknown migration-safety rule 'no-such-rule'"
    assert unknown["details"][0].startswith(paths["5afe00000007"] + ":")


def test_db_create_migration_prints_the_findings_of_the_file_it_wrote(linted):
    repo, paths, _ = linted
    # A team template whose every new revision builds an index the blocking way (the template
    # imports only what the generated body uses: `op` for its own line is the team's to import).
    mako = COMPONENTS["manager"][0] + "/script.py.mako"
    repo.write(
        mako,
        repo.read(mako)
        .replace(
            '    """Upgrade schema."""\n',
            '    """Upgrade schema."""\n    op.create_index("ix_users_created_at", "users", ["created_at"])\n',
        )
        .replace(
            "from typing import Sequence, Union\n",
            "from typing import Sequence, Union\n\nfrom alembic import op\n",
        ),
    )
    created = repo.run(
        "db-create-migration", "--message=Template index", "--rev-id=5afe00000008", MANAGER
    )
    assert created.returncode == 0, created  # findings are advice here, not an error
    steps, safety = created.stdout.split("Next steps:", 1)[1].split("Migration safety", 1)
    assert "pants db-migrate" in steps
    new = f"{VERSIONS}/5afe00000008_template_index.py"
    line = _line(repo, new, "op.create_index")
    assert f"❌ require-concurrent-index-creation: {new}:{line} (5afe00000008 upgrade)" in safety
    assert "manager: 1 revision checked, 1 error" in safety


def _lint_seeing(repo, revision: str, line: int, tries: int = 3):
    """The first manager lint whose report has `revision`'s finding on `line`: a run that starts
    before pantsd's watcher has handled the edit lints the file as it was (nothing executes), so
    it does not count; an edit that no run sees after `tries` fails the test."""
    for _ in range(tries):
        result = repo.run("--stats-log", "lint", "--only=migration-safety", MANAGER)
        if line in [f[3] for f in _found(_report(repo), revision) if f[1] == "upgrade"]:
            return result
        repo.settle(quiet_for=2.0)
    raise AssertionError(f"no lint saw the edit of {revision} (finding not on line {line})")


def test_one_edited_revision_is_the_only_one_linted_again(linted):
    repo, paths, _ = linted
    warm = repo.run("--stats-log", "lint", "--only=migration-safety", MANAGER)
    assert warm.returncode == 1 and _executions(warm) == 0, warm
    path = paths["5afe00000003"]
    # A comment no earlier run wrote: the machine's process cache (shared by every repo copy and
    # checkout) may hold the result of the same edit from a previous run of this test.
    reviewed = f"# reviewed {uuid.uuid4().hex}\n\n\ndef upgrade"
    repo.write(path, repo.read(path).replace("def upgrade", reviewed))
    edited = _lint_seeing(repo, "5afe00000003", _line(repo, path, "op.alter_column"))
    assert _executions(edited) == 1, edited
    assert _found(_report(repo), "5afe00000003")[0][0] == "changing-column-type"
    # The other components: every appproxy revision is in a release (not linted by default).
    clean = repo.run(
        "lint",
        "--only=migration-safety",
        "src/ai/backend/appproxy::",
        "src/ai/backend/accountmgr::",
    )
    assert clean.returncode == 0, clean
    for component in ("accountmgr", "appproxy"):
        data = json.loads((repo.root / f"dist/lint/migration-safety/{component}.json").read_text())
        assert data["ok"] and not [f for f in data["findings"] if f["level"] == "error"]

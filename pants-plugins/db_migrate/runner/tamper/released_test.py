"""Released or your own: release pins and the shared branch decide; git asked for real."""

from __future__ import annotations

import subprocess

from db_migrate.core.contract import MigrateOptions, RunnerCommand, RunnerPlan
from db_migrate.core.revision_file import Revision
from db_migrate.runner.tamper.released import Releases, below, first_release, releases


def fact(revision: str, *down: str) -> Revision:
    return Revision(revision, tuple(down), message=f"Do {revision}", path=f"v/{revision}.py")


# a ← b ← c ← d, and e on b (a second branch)
HISTORY = (fact("a"), fact("b", "a"), fact("c", "b"), fact("d", "c"), fact("e", "b"))


def test_a_revision_belongs_to_the_oldest_release_that_includes_it():
    assert first_release(HISTORY, [("24.03", "b"), ("24.09", "d")]) == {
        "a": "24.03",
        "b": "24.03",
        "c": "24.09",
        "d": "24.09",
    }
    assert first_release(HISTORY, []) == {}


def test_pins_win_over_git_and_git_decides_the_rest():
    known = Releases({"a": "24.03"}, "main", {"v/c.py"})
    assert known.released_because("a", "v/a.py") == "in release 24.03"
    assert known.released_because("c", "v/c.py") == "its file is on main"
    assert known.released_because("d", "v/d.py") is None
    assert known.unreleased_means() == "in no release pin, not on main" and known.note() is None
    blind = Releases({"a": "24.03"}, "main", None, "/r is not in a git repository")
    assert blind.released_because("c", "v/c.py") is None
    assert blind.note() == (
        "git cannot tell which revisions are on main (/r is not in a git repository):"
        " only release pins count as released"
    )


def test_a_downgrade_below_the_oldest_edited_revision_runs_every_edit():
    assert below(HISTORY, ["d", "c"]) == "b"
    assert below(HISTORY, ["e"]) == "b"
    assert below(HISTORY, ["a", "d"]) == "base"


def git(root, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_files_on_the_base_ref_are_released_and_new_ones_are_not(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "a.py").write_text("a")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "a")
    git(tmp_path, "checkout", "-q", "-b", "mine")
    (tmp_path / "v" / "b.py").write_text("b")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "b")  # committed, but only on my branch
    plan = RunnerPlan(
        RunnerCommand.MIGRATE,
        "c",
        "s",
        "alembic.ini",
        "C_DB_URL",
        str(tmp_path),
        MigrateOptions(),
        HISTORY[:2],
        ("b",),
    )
    known = releases(plan, ["v/a.py", "v/b.py"], (), "main")
    assert known.released_because("a", "v/a.py") == "its file is on main"
    assert known.released_because("b", "v/b.py") is None
    elsewhere = releases(plan, ["v/a.py"], (), "origin/main")
    assert elsewhere.released_because("a", "v/a.py") is None
    assert "git knows no `origin/main`" in elsewhere.note()

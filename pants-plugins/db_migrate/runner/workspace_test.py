from __future__ import annotations

import stat

from db_migrate.runner.workspace import GITIGNORE, git_ignored_folder


def test_a_folder_we_create_ignores_everything_in_it(tmp_path):
    folder = git_ignored_folder(tmp_path / "nested" / ".db-backups", mode=0o700)
    assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / ".gitignore").read_text() == GITIGNORE
    assert GITIGNORE.splitlines()[-1] == "*"


def test_a_folder_that_exists_is_left_as_it_is(tmp_path):
    folder = tmp_path / ".dev-postgres"
    folder.mkdir()
    (folder / "notes").write_text("mine")
    git_ignored_folder(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes"]

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

from pants.engine.fs import Digest, FileDigest, FileEntry

from db_migrate.lint.alembic_history import CompiledFiles, clean_paths, file_groups


def _paths(n: int, prefix: str = "") -> list:
    return [f"versions/{prefix}{i:05d}_step.py" for i in range(n)]


def test_every_file_is_checked_exactly_once() -> None:
    for n in (0, 1, 999, 1000, 1001, 5000):
        groups = file_groups(_paths(n))
        flat = [path for group in groups for path in group]
        assert sorted(flat) == sorted(_paths(n))
        assert len(groups) == (0 if n == 0 else -(-n // 1000))


def test_groups_stay_near_their_size() -> None:
    sizes = [len(group) for group in file_groups(_paths(10_000))]
    assert len(sizes) == 10 and min(sizes) > 800 and max(sizes) < 1200, sizes


def test_a_new_or_edited_revision_changes_one_group() -> None:
    before = file_groups(_paths(4500))
    after = file_groups([*_paths(4500), "versions/zz_new_revision.py"])
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(changed) == 1
    assert "versions/zz_new_revision.py" in after[changed[0]]


def _entry(path: str, content: str) -> FileEntry:
    fingerprint = hashlib.sha256(content.encode()).hexdigest()
    return FileEntry(path, FileDigest(fingerprint, len(content)))


RUNNER = Digest("a" * 64, 100)
OTHER_RUNNER = Digest("b" * 64, 100)


def test_after_an_edit_only_the_edited_file_is_left_to_compile() -> None:
    memo = CompiledFiles()
    files = [_entry(path, f"# {path}") for path in _paths(5000)]
    assert memo.unchecked(RUNNER, files) == tuple(files)
    memo.add(RUNNER, files)
    assert memo.unchecked(RUNNER, files) == ()
    edited = [*files[:2500], _entry(files[2500].path, "# edited"), *files[2501:]]
    assert memo.unchecked(RUNNER, edited) == (edited[2500],)
    # Another interpreter or runner judges every file afresh.
    assert len(memo.unchecked(OTHER_RUNNER, files)) == 5000


def test_the_memo_keeps_its_newest_files_within_its_limit() -> None:
    memo = CompiledFiles(limit=3)
    files = [_entry(path, "x") for path in _paths(5)]
    memo.add(RUNNER, files)
    assert memo.unchecked(RUNNER, files) == tuple(files[:2])


def _check(exit_code: int, errors: list) -> SimpleNamespace:
    stdout = "warning: something first\n" + json.dumps({"errors": errors}) + "\n"
    return SimpleNamespace(exit_code=exit_code, stdout=stdout.encode())


def test_only_files_that_compiled_cleanly_are_remembered() -> None:
    group = tuple(_paths(3))
    broken = {"path": group[1], "line": 3, "message": "invalid syntax"}
    assert clean_paths(group, _check(0, [])) == group
    assert clean_paths(group, _check(0, [broken])) == (group[0], group[2])
    # A check that failed to run (a crash, a missing interpreter) vouches for nothing.
    assert clean_paths(group, SimpleNamespace(exit_code=1, stdout=b"")) == ()

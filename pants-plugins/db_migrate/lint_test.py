from __future__ import annotations

from db_migrate.lint import file_groups


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

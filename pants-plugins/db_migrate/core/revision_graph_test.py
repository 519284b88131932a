"""The graph problems Alembic's RevisionMap would reject, found and named by file."""

from __future__ import annotations

from db_migrate.core.history import History
from db_migrate.core.revision_file import Revision
from db_migrate.core.revision_graph import find_problems


def rev(
    revision: str, *downs: str, labels: tuple[str, ...] = (), deps: tuple[str, ...] = ()
) -> Revision:
    return Revision(revision, downs, labels, deps, path=f"versions/{revision}.py")


def problems(*revs: Revision) -> dict[str, tuple]:
    found = find_problems(revs)
    assert found
    first: dict[str, tuple] = {}
    for p in found:
        first.setdefault(p.kind, p)
    return first


def test_duplicate_revision_names_both_files() -> None:
    problem = problems(rev("a1aa"), Revision("a1aa", path="versions/copy.py"))["duplicate-revision"]
    assert problem.paths == ("versions/a1aa.py", "versions/copy.py")
    assert (
        problem.message
        == "Revision a1aa is defined more than once: versions/a1aa.py, versions/copy.py"
    )


def test_missing_revision_names_the_referring_file_and_the_id() -> None:
    found = problems(rev("a1aa"), rev("b2bb", "gone"), rev("c3cc", "a1aa", deps=("nolabel",)))
    assert found["missing-revision"].revisions == ("b2bb", "gone")
    assert found["missing-revision"].paths == ("versions/b2bb.py",)
    assert "no migration file defines revision 'gone'" in found["missing-revision"].message
    all_missing = find_problems([rev("b2bb", "gone"), rev("c3cc", deps=("nolabel",))])
    assert [p.revisions for p in all_missing] == [("b2bb", "gone"), ("c3cc", "nolabel")]


def test_down_revision_naming_a_label_is_missing_with_a_hint() -> None:
    problem = problems(rev("a1aa", labels=("core",)), rev("b2bb", "core"))["missing-revision"]
    assert "that is a branch label" in problem.message


def test_cycles_name_their_members() -> None:
    found = problems(
        rev("a1aa"),
        rev("b2bb", "a1aa", "d4dd"),
        rev("c3cc", "b2bb"),
        rev("d4dd", "c3cc"),
        rev("e5ee", "d4dd"),
    )
    assert found["cycle"].revisions == ("b2bb", "c3cc", "d4dd")
    assert found["cycle"].message == "Cycle is detected in revisions (b2bb, c3cc, d4dd)"
    assert (
        problems(rev("a1aa", "a1aa"))["cycle"].message
        == "Self-loop is detected in revisions (a1aa)"
    )
    dependency = problems(rev("a1aa", deps=("b2bb",)), rev("b2bb", "a1aa"))["dependency-cycle"]
    assert dependency.revisions == ("a1aa", "b2bb")


def test_label_conflicts_and_illegal_ids() -> None:
    found = problems(
        rev("a1aa", labels=("core",)), rev("b2bb", labels=("core", "a1aa")), rev("c-3")
    )
    assert [
        p.message
        for p in find_problems([rev("a1aa", labels=("core",)), rev("b2bb", labels=("core",))])
    ] == ["Branch name 'core' in revision b2bb already used by revision a1aa"]
    assert found["invalid-revision-id"].message.startswith(
        "Character(s) '-' not allowed in revision identifier 'c-3'"
    )


def test_several_heads_are_not_a_problem() -> None:
    revs = [rev("a1aa"), rev("b2bb", "a1aa"), rev("c3cc", "a1aa")]
    assert find_problems(revs) == ()
    assert History(revs).heads == ("b2bb", "c3cc")

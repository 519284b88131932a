"""Unit tests for revisions.py: reading files, graph problems, targets and their error messages.

Pure (runs in the Pants resolve on CPython 3.9, no Alembic). The Alembic-equivalence proofs live in
revisions_alembic_test.py; the expected values here were checked against Alembic 1.20 by hand.
"""

from __future__ import annotations

import textwrap

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate import revisions
from db_migrate.revisions import (
    InvalidRevisionGraph,
    Revision,
    RevisionFileError,
    RevisionGraph,
    TargetError,
    find_problems,
    is_revision_file,
    parse_revision_file,
)

# What Alembic 1.20's `alembic revision` writes (generic template).
GENERATED = '''\
"""add users table

Revision ID: 1975ea83b712
Revises: 27c6a30d7c24
Create Date: 2024-05-02 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1975ea83b712'
down_revision: Union[str, Sequence[str], None] = '27c6a30d7c24'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("users")
'''


def parse(source: str | bytes, path: str = "versions/1975ea83b712_add_users.py") -> Revision:
    if isinstance(source, str):
        source = textwrap.dedent(source)
    return parse_revision_file(path, source)


def file_error(source: str | bytes, path: str = "versions/0001_x.py") -> RevisionFileError:
    with pytest.raises(RevisionFileError) as raised:
        parse(source, path)
    return raised.value


# -- reading files ------------------------------------------------------------------------------------


def test_reads_the_generated_template() -> None:
    assert parse(GENERATED) == Revision(
        revision="1975ea83b712",
        down_revisions=("27c6a30d7c24",),
        message="add users table",
        path="versions/1975ea83b712_add_users.py",
    )


@pytest.mark.parametrize(
    "header, expected",
    [
        ("down_revision = None", ()),
        ("down_revision = ()", ()),
        ("down_revision = []", ()),
        ('down_revision = "a1"', ("a1",)),
        ("down_revision = ('a1',)", ("a1",)),
        ("down_revision = ('a1')", ("a1",)),
        ('down_revision = ("b2", "a1")', ("b2", "a1")),
        ("down_revision = ['b2', 'a1']", ("b2", "a1")),
        ('down_revision: Union[str, Sequence[str], None] = ("b2", "a1")', ("b2", "a1")),
        ('down_revision: "str | None" = "a1"', ("a1",)),
        ('down_revision = (\n    "b2",\n    "a1",\n)', ("b2", "a1")),
        ('down_revision = (  # merge\n    "b2",  # left\n    "a1",\n)', ("b2", "a1")),
        ('down_revision = "a1"  # the parent', ("a1",)),
        ("down_revision = 'a1'; x = 1", ("a1",)),
    ],
)
def test_down_revision_forms(header: str, expected: tuple[str, ...]) -> None:
    assert parse(f'revision = "c3"\n{header}\n').down_revisions == expected


def test_branch_labels_and_depends_on() -> None:
    rev = parse(
        """\
        revision = "c3"
        down_revision = None
        branch_labels = "core"
        depends_on = ["a1", "feature"]
        """
    )
    assert (rev.branch_labels, rev.depends_on) == (("core",), ("a1", "feature"))
    assert parse('revision = "c3"\ndown_revision = None\n').branch_labels == ()


@pytest.mark.parametrize(
    "docstring, message",
    [
        ('"""Add users\n\nRevision ID: x\n"""', "Add users"),
        ('"""\n    Add users\n    to the db\n\n    More.\n"""', "Add users\n    to the db"),
        ("'Add users'", "Add users"),
        ('r"""C:\\temp\\new"""', "C:\\temp\\new"),
        ('"""tab\\there"""', "tab\there"),
        ('"""ünïcode — ok"""', "ünïcode — ok"),
        ("", ""),
        ('x = 1\n"""not a docstring"""', ""),
        ('# comment\n\n"""after a comment"""', "after a comment"),
        ('f"""not a docstring"""', ""),
    ],
)
def test_message_is_alembics_doc(docstring: str, message: str) -> None:
    """Alembic's `Script.doc`: the docstring, stripped, up to the first blank line."""
    assert parse(f'{docstring}\nrevision = "c3"\ndown_revision = None\n').message == message


def test_header_text_inside_strings_and_comments_is_not_the_header() -> None:
    rev = parse(
        '''\
        """Example

        revision = "fake"
        down_revision = "fake"
        """
        # revision = "commented"
        EXAMPLE = """
        revision = 'inside a string'
        """
        revision = "c3"
        down_revision = "a1"
        '''
    )
    assert (rev.revision, rev.down_revisions) == ("c3", ("a1",))


def test_the_last_module_level_assignment_wins() -> None:
    rev = parse('revision = "old"\ndown_revision = None\nrevision = "new"\n')
    assert rev.revision == "new"
    assert parse('revision = "c3"\nrevision: str\ndown_revision = None\n').revision == "c3"


def test_assignments_inside_functions_are_not_module_level() -> None:
    error = file_error(
        """\
        down_revision = None
        def upgrade():
            revision = "local"
        """
    )
    assert "no module-level `revision" in error.message


def test_legacy_hex_file_name_gives_the_revision() -> None:
    """Alembic falls back to a hex file name when there is no `revision` (pre-0.2 layout)."""
    assert parse("down_revision = None\n", "versions/ae1027a6acf.py").revision == "ae1027a6acf"


def test_crlf_bom_and_coding_cookie() -> None:
    text = '"""Café\r\n\r\nmore"""\r\nrevision = "c3"\r\ndown_revision = None\r\n'
    assert parse(text.encode("utf-8")).message == "Café"
    assert parse(b"\xef\xbb\xbf" + text.encode("utf-8")).message == "Café"
    latin1 = ("# -*- coding: latin-1 -*-\n" + text).encode("latin-1")
    assert parse(latin1).message == "Café"


def test_non_ascii_identifiers_are_normalized_like_python_does() -> None:
    """`ｒevision` (fullwidth r) is the name `revision` once Python NFKC-normalizes it."""
    assert parse('\uff52evision = "c3"\ndown_revision = None\n').revision == "c3"


@pytest.mark.parametrize(
    "source, line, text",
    [
        ('revision = "c3"\ndown_revision = None\n\ndef upgrade(:\n    pass\n', 4, "SyntaxError"),
        ('revision = "c3"\ndown_revision = None\ndef upgrade():\npass\n', 4, "IndentationError"),
        ('revision = "c3"\ndown_revision = None\nreturn 1\n', 3, "'return' outside function"),
        ('revision = "c3"\ndown_revision = None\ndef f(a, a): pass\n', 3, "duplicate argument"),
        ("revision = make_id()\ndown_revision = None\n", 1, "`revision` is not a literal"),
        (
            'revision = "c3"\ndown_revision = None\nif True:\n    revision = "c4"\n',
            3,
            "`revision` is not a literal",
        ),
        (
            'revision = "c3"\nfrom somewhere import down_revision\n',
            2,
            "`down_revision` is not a literal",
        ),
        (
            "revision = None\ndown_revision = None\n",
            1,
            "`revision` must be a non-empty string, not None",
        ),
        ('revision = ("c3",)\ndown_revision = None\n', 1, "`revision` must be a non-empty string"),
        (
            'revision = "c3"\ndown_revision = 5\n',
            2,
            "`down_revision` must be None, a string or a tuple/list",
        ),
        (
            'revision = "c3"\ndown_revision = None\nbranch_labels = {"a": 1}\n',
            3,
            "`branch_labels` must be",
        ),
    ],
)
def test_file_errors_name_the_line(source: str, line: int, text: str) -> None:
    error = file_error(source)
    assert (error.path, error.line) == ("versions/0001_x.py", line)
    assert text in error.message
    assert str(error).startswith(f"versions/0001_x.py:{line}: ")


def test_file_errors_without_a_line() -> None:
    assert "no module-level `revision" in file_error("down_revision = None\n").message
    assert "no module-level `down_revision`" in file_error('revision = "c3"\n').message
    assert file_error(b'revision = "c3"\x00\n').path == "versions/0001_x.py"
    assert str(file_error('revision = "c3"\n')) == (
        "versions/0001_x.py: no module-level `down_revision` (a first revision has `down_revision = None`)"
    )


def test_undecodable_source_is_a_file_error() -> None:
    assert file_error(b'revision = "\xff"\ndown_revision = None\n').line == 1


@pytest.mark.parametrize(
    "source",
    [
        GENERATED,
        'revision = "c3"\ndown_revision = None\nrevision = "c4"\n',
        '"""doc\nrevision = "fake"\n"""\nrevision = "c3"\ndown_revision = None\n',
        'revision = "c3"\ndown_revision = None\nprint(revision)\n',
        'x = dict(\nrevision = "kwarg"\n)\nrevision = "c3"\ndown_revision = None\n',
        'x = dict(\nrevision = "kwarg"\n)\ndown_revision = None\n',
        'revision = "c3"\ndown_revision = None\nfor revision in ["c4"]:\n    pass\n',
        'revision = "c3"\ndown_revision = None\n(revision := "c4")\n',
        'revision: str\nrevision = "c3"\ndown_revision = None\n',
        'revision = "c3"\nrevision: str\ndown_revision = None\n',
        'revision = "c3"\ndown_revision = None\ndel revision\n',
        'revision = \\\n"c3"\ndown_revision = None\n',
        'y = x.\\\nrevision = "c3"\ndown_revision = None\n',
    ],
)
def test_fast_path_and_ast_agree(source: str) -> None:
    """Where the fast path answers it must give the AST's answer (it may decline: None)."""
    code = compile(source, "f.py", "exec", dont_inherit=True)
    fast = revisions._fast_header(source, code)
    if fast is not None:
        slow = revisions._header_from_ast("f.py", source)
        assert {k: v[0] for k, v in fast.items()} == {k: v[0] for k, v in slow.items()}


def test_the_fast_path_reads_the_generated_template() -> None:
    code = compile(GENERATED, "f.py", "exec", dont_inherit=True)
    assert revisions._fast_header(GENERATED, code) is not None


@pytest.mark.parametrize(
    "name, loaded",
    [
        ("1975ea83b712_add_users.py", True),
        (".hidden.py", True),
        ("__init__.py", False),
        ("__init__x.py", False),
        (".#1975ea83b712_add_users.py", False),
        ("1975ea83b712_add_users.pyc", False),
        ("notes.txt", False),
        ("versions/sub/abc.py", True),
    ],
)
def test_is_revision_file(name: str, loaded: bool) -> None:
    assert is_revision_file(name) is loaded


# -- the graph: problems ------------------------------------------------------------------------------


def rev(
    revision: str, *downs: str, labels: tuple[str, ...] = (), deps: tuple[str, ...] = ()
) -> Revision:
    return Revision(revision, downs, labels, deps, path=f"versions/{revision}.py")


def problems(*revs: Revision) -> dict[str, tuple]:
    with pytest.raises(InvalidRevisionGraph) as raised:
        RevisionGraph(revs)
    assert raised.value.problems == find_problems(revs)
    first: dict[str, tuple] = {}
    for p in raised.value.problems:
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
    graph = RevisionGraph([rev("a1aa"), rev("b2bb", "a1aa"), rev("c3cc", "a1aa")])
    assert graph.heads == ("b2bb", "c3cc")
    assert graph.branch_points == ("a1aa",)


# -- the graph: structure, targets, plans -------------------------------------------------------------

# a1aa - b2bb - c3cc [feat] - e5ee (merge of c3cc, d4dd)
#           \-- d4dd ------/
# f6ff [other] - g7gg (depends on c3cc)
HISTORY = [
    rev("a1aa"),
    rev("b2bb", "a1aa"),
    rev("c3cc", "b2bb", labels=("feat",)),
    rev("d4dd", "b2bb"),
    rev("e5ee", "c3cc", "d4dd"),
    rev("f6ff", labels=("other",)),
    rev("g7gg", "f6ff", deps=("c3cc",)),
]


@pytest.fixture
def graph() -> RevisionGraph:
    return RevisionGraph(HISTORY)


def ids(revs: tuple[Revision, ...]) -> list[str]:
    return [r.revision for r in revs]


def test_structure(graph: RevisionGraph) -> None:
    assert (graph.heads, graph.real_heads, graph.bases) == (
        ("e5ee", "g7gg"),
        ("e5ee", "g7gg"),
        ("a1aa", "f6ff"),
    )
    assert (graph.branch_points, graph.merge_points) == (("b2bb",), ("e5ee",))
    assert graph.branch_labels("e5ee") == {"feat"}  # inherited by descendants
    assert graph.branch_labels("g7gg") == {"other"}
    assert graph.branch_labels("a1aa") == set()
    assert graph.children("b2bb") == ("c3cc", "d4dd")
    assert graph.get("c3cc") == HISTORY[2] and graph.get("feat") is None and graph.get("c3") is None
    assert "c3cc" in graph and "feat" not in graph and len(graph) == 7
    assert ids(graph.history()) == ["e5ee", "g7gg", "f6ff", "c3cc", "d4dd", "b2bb", "a1aa"]


def test_labels_spread_down_an_unbranched_line() -> None:
    graph = RevisionGraph([rev("a1aa"), rev("b2bb", "a1aa"), rev("c3cc", "b2bb", labels=("core",))])
    assert [sorted(graph.branch_labels(r)) for r in ("a1aa", "b2bb", "c3cc")] == [["core"]] * 3


def test_depends_on_makes_a_real_head_an_effective_one() -> None:
    graph = RevisionGraph([rev("a1aa"), rev("b2bb"), rev("c3cc", "b2bb", deps=("a1aa",))])
    assert graph.heads == ("a1aa", "c3cc")
    assert graph.real_heads == ("c3cc",)  # what `heads` means, and what the version table will hold
    assert graph.resolve("heads") == ("c3cc",)
    assert ids(graph.upgrade_plan("heads")) == ["a1aa", "b2bb", "c3cc"]


@pytest.mark.parametrize(
    "target, current, expected",
    [
        ("c3cc", (), ("c3cc",)),
        ("c3", (), ("c3cc",)),  # unambiguous prefix
        ("fea", (), ("c3cc",)),  # a prefix of a label counts too
        ("heads", (), ("e5ee", "g7gg")),
        ("base", ("e5ee",), ()),
        ("feat@head", (), ("e5ee",)),
        ("other@head", (), ("g7gg",)),
        ("+1", ("a1aa",), ("b2bb",)),
        ("feat@+1", ("b2bb",), ("c3cc",)),
        ("c3cc+1", (), ("e5ee",)),
        ("c3cc-1", (), ("b2bb",)),
    ],
)
def test_resolve_upgrade_targets(
    graph: RevisionGraph, target: str, current: tuple, expected: tuple
) -> None:
    assert graph.resolve(target, current) == expected


@pytest.mark.parametrize(
    "target, current, expected",
    [
        ("-1", ("c3cc",), ("b2bb",)),
        ("-1", ("a1aa",), ()),
        ("base", ("e5ee",), ()),
        ("other@-1", ("e5ee", "g7gg"), ("f6ff",)),
        ("b2bb", ("e5ee",), ("b2bb",)),
    ],
)
def test_resolve_downgrade_targets(
    graph: RevisionGraph, target: str, current: tuple, expected: tuple
) -> None:
    assert graph.resolve(target, current, downgrade=True) == expected


def test_plans(graph: RevisionGraph) -> None:
    assert ids(graph.upgrade_plan("heads")) == [
        "a1aa",
        "b2bb",
        "d4dd",
        "c3cc",
        "f6ff",
        "g7gg",
        "e5ee",
    ]
    assert ids(graph.upgrade_plan("other@head")) == ["a1aa", "b2bb", "c3cc", "f6ff", "g7gg"]
    assert ids(graph.upgrade_plan("heads", ("c3cc",))) == ["f6ff", "g7gg", "d4dd", "e5ee"]
    assert ids(graph.upgrade_plan("+1", ("c3cc",))) == ["d4dd", "e5ee"]
    assert ids(graph.downgrade_plan("base", ("e5ee", "g7gg"))) == [
        "e5ee",
        "g7gg",
        "f6ff",
        "c3cc",
        "d4dd",
        "b2bb",
        "a1aa",
    ]
    assert ids(graph.downgrade_plan("a1aa", ("e5ee", "g7gg"))) == [
        "e5ee",
        "g7gg",
        "c3cc",
        "d4dd",
        "b2bb",
    ]
    assert ids(graph.downgrade_plan("-1", ("c3cc",))) == ["c3cc"]
    assert graph.downgrade_plan("g7gg", ("e5ee", "g7gg")) == ()


def target_error(fn: object, *args: object, **kwargs: object) -> TargetError:
    with pytest.raises(TargetError) as raised:
        fn(*args, **kwargs)  # type: ignore[operator]
    return raised.value


def test_unknown_target_carries_suggestions(graph: RevisionGraph) -> None:
    error = target_error(graph.upgrade_plan, "c3cd")
    assert (error.kind, error.argument, str(error)) == (
        "unknown",
        "c3cd",
        "Cannot locate revision 'c3cd'",
    )
    assert error.suggestions[0] == "c3cc"
    short = target_error(graph.resolve, "zz")
    assert "at least four characters" in short.message


def test_unknown_current_revision_is_reported_too(graph: RevisionGraph) -> None:
    error = target_error(graph.upgrade_plan, "heads", ("deadbeef",))
    assert (error.kind, error.argument) == ("unknown", "deadbeef")


def test_ambiguous_prefix_lists_candidates() -> None:
    graph = RevisionGraph([rev("abc123"), rev("abc456", "abc123")])
    error = target_error(graph.resolve, "abc")
    assert (error.kind, error.argument, error.candidates) == (
        "ambiguous",
        "abc",
        ("abc123", "abc456"),
    )
    assert error.message == "Multiple revisions start with 'abc': 'abc123', 'abc456'"


def test_head_with_several_heads(graph: RevisionGraph) -> None:
    error = target_error(graph.upgrade_plan, "head")
    assert (error.kind, error.argument, error.candidates) == (
        "multiple-heads",
        "head",
        ("e5ee", "g7gg"),
    )
    assert "'<branchname>@head'" in error.message


def test_other_target_errors(graph: RevisionGraph) -> None:
    assert target_error(graph.resolve, "feat@g7gg").kind == "not-on-branch"
    assert target_error(graph.resolve, "nolabel@c3cc").message == "No such branch: 'nolabel'"
    assert target_error(graph.resolve, "nolabel@head").message == "Cannot locate revision 'nolabel'"
    assert (
        target_error(graph.resolve, "e5ee-1").message == "Ambiguous walk"
    )  # a merge has two parents
    assert (
        target_error(graph.resolve, "-1").message
        == "Relative revision -1 didn't produce 1 migrations"
    )
    assert target_error(graph.resolve, "+3", ("c3cc",)).kind == "relative"
    assert target_error(graph.resolve, "+1", ("e5ee", "g7gg")).message == (
        "Ambiguous upgrade from multiple current revisions"
    )
    assert target_error(graph.resolve, "c3cc+5").kind == "relative"  # walks past the head
    not_ancestor = target_error(graph.downgrade_plan, "g7gg", ("c3cc",))
    assert (not_ancestor.kind, not_ancestor.message) == (
        "not-ancestor",
        "Destination g7gg is not a valid downgrade target from current head(s)",
    )
    overlap = target_error(graph.upgrade_plan, "heads", ("a1aa", "b2bb"))
    assert "overlaps" in overlap.message


def test_closest(graph: RevisionGraph) -> None:
    assert graph.closest("e5ef") == ("e5ee",)
    assert graph.closest("c3") == ("c3cc",)
    assert graph.closest("c3cc_extra")[0] == "c3cc"
    assert graph.closest("fet") == ("feat",)
    assert graph.closest("zzzzzz") == ()


def test_empty_history() -> None:
    graph = RevisionGraph([])
    assert (graph.heads, graph.bases, graph.history()) == ((), (), ())
    assert graph.upgrade_plan("heads") == ()
    assert graph.resolve("head") == ()

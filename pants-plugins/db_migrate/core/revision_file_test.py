"""Unit tests for revision_file.py: reading revision files without importing them.

Pure (runs in the Pants resolve on CPython 3.9). The proof that the reader equals Python/Alembic on
generated files is revision_file_alembic_test.py (CPython 3.11, Alembic itself).
"""

from __future__ import annotations

import ast
import textwrap

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.core.revision_file import (
    _DYNAMIC_BINDERS,
    Revision,
    RevisionFileError,
    _indirect_bindings,
    is_revision_file,
    parse_revision_file,
    read_revision_header,
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
        (
            "revision = make_id()\ndown_revision = None\n",
            1,
            "`revision` is not a plain literal assignment",
        ),
        (
            'revision = "c3"\ndown_revision = None\nif True:\n    revision = "c4"\n',
            3,
            "`revision` is not a plain literal assignment",
        ),
        (
            'revision = "c3"\nfrom somewhere import down_revision\n',
            2,
            "`down_revision` is not a plain literal assignment",
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
def test_the_reader_gives_what_python_binds_or_refuses(source: str) -> None:
    """Refusing a file is allowed; reading another value than Python binds is not. (A name
    that is not a legacy hex file name: Alembic would take the id from that.)"""
    namespace: dict = {}
    try:
        exec(compile(source, "versions/step.py", "exec"), namespace)
    except Exception:  # the body fails when run (e.g. a name it uses is undefined)
        return
    try:
        read = read_revision_header("versions/step.py", source)
    except RevisionFileError:
        return
    assert read.revision == namespace.get("revision")
    down = namespace.get("down_revision")
    assert read.down_revisions == (() if down is None else (down,))


def test_the_generated_template_is_read() -> None:
    read = read_revision_header("versions/c3.py", GENERATED)
    assert read.revision and read.message


@pytest.mark.parametrize(
    "binding",
    [
        'if True:\n    down_revision = "b2"',
        'try:\n    down_revision = "b2"\nexcept Exception:\n    pass',
        'for down_revision in ["b2"]:\n    pass',
        "with open(__file__) as down_revision:\n    pass",
        'while True:\n    down_revision = "b2"\n    break',
        'down_revision += "b2"',
        "down_revision: str = make()",
        'down_revision, x = "b2", 1',
        '(down_revision := "b2")',
        "from somewhere import down_revision",
        "import down_revision",
        'def f():\n    global down_revision\n    down_revision = "b2"\nf()',
        'class C:\n    global down_revision\n    down_revision = "b2"',
        'globals()["down_revision"] = "b2"',
        # NFKC makes the fullwidth `ｇlobals` the name `globals`: a non-ASCII file is walked whole.
        '\uff47lobals()["down_revision"] = "b2"',
        'import sys\nsetattr(sys.modules[__name__], "down_revision", "b2")',
        'vars()["down_revision"] = "b2"',
        'x = [y for y in [1] if (down_revision := "b2")]',
        "del down_revision",
    ],
)
def test_a_header_name_bound_any_other_way_is_refused_not_misread(binding: str) -> None:
    """Python would see something other than `a1` (or fail): never answer `a1`."""
    source = f'revision = "c3"\ndown_revision = "a1"\n{binding}\n'
    with pytest.raises(RevisionFileError) as raised:
        read_revision_header("versions/c3.py", source)
    assert "down_revision" in raised.value.message
    assert raised.value.line is not None


@pytest.mark.parametrize(
    "body",
    [
        'def f():\n    global down_revision\n    down_revision = "b2"',
        "class C:\n    global revision, x",
        'globals()["down_revision"] = "b2"',
        'x.__dict__["revision"] = 1',
        'import sys\nsys.modules[__name__].depends_on = None\ny = "depends_on"',
        *(f'{word}("branch_labels")' for word in sorted(_DYNAMIC_BINDERS)),
        'x = "revision"  # no binder: the string binds nothing',
        'op.execute("SELECT 1")  # `execute` is not `exec`',
        GENERATED,
    ],
)
def test_skipping_the_walk_of_an_ascii_file_without_those_words_changes_nothing(body: str) -> None:
    """`_indirect_bindings` skips walking an ASCII file that holds none of the words it acts on;
    its answer must be the walk's (a non-ASCII text is always walked)."""
    text = f'revision = "c3"\ndown_revision = "a1"\n{body}\n'
    tree = ast.parse(text)
    assert _indirect_bindings(tree, text) == _indirect_bindings(tree, text + "# \u00e9\n")


@pytest.mark.parametrize(
    "source",
    [
        'revision = "c3"\ndown_revision = "a1"\nx = [down_revision for down_revision in ["b2"]]\n',
        'revision = "c3"\ndown_revision = "a1"\ndef f():\n    down_revision = "b2"\n',
        'revision = "c3"\ndown_revision = "a1"\nclass C:\n    down_revision = "b2"\n',
        'revision = "c3"\ndown_revision = "a1"\nprint("down_revision")\n',
    ],
)
def test_names_bound_in_other_scopes_leave_the_module_value(source: str) -> None:
    assert read_revision_header("versions/c3.py", source).down_revisions == ("a1",)


def test_header_lines_inside_strings_or_brackets_are_not_bindings() -> None:
    for source in (
        'revision = "c3"\nx = """\ndown_revision = "a1"\n"""\ndown_revision = None\n',
        'revision = "c3"\nx = dict(\ndown_revision = "a1"\n)\ndown_revision = None\n',
    ):
        assert read_revision_header("versions/c3.py", source).down_revisions == (), source
    for unreadable in (
        'revision = "c3"\nx = """\ndown_revision = "a1"\n"""\n',  # no binding at all
        'revision = "c3"\nx = (\n"(" ,\ndown_revision = "a1"\n)\ndown_revision = None\n',
    ):
        with pytest.raises(RevisionFileError):
            read_revision_header("versions/c3.py", unreadable)


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

"""revision_file.py and revision_graph.py against Python and Alembic themselves: the reader and
the problem finder.

Runs in the repo's resolve (CPython 3.11, alembic, hypothesis). The header reader is compared with
Alembic loading the same file (`Script._from_path`, which imports it), on files Alembic's own
`generate_revision` wrote, on hand-varied headers, and on files that bind a header name in every way
Python allows (blocks, unpacking, imports, `global`, walrus, ...): the reader must answer what
Python binds or refuse the file, never answer something else. The problem finder (what Alembic's
`RevisionMap` lacks) must reject every broken history and leave Alembic's heads on sound ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

import alembic
import pytest
from alembic import util as alembic_util
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import Revision as AlembicRevision
from alembic.script.revision import RevisionMap
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from db_migrate.core.history import History
from db_migrate.core.revision_file import (
    Revision,
    RevisionFileError,
    is_revision_file,
    parse_revision_file,
    read_revision_header,
)
from db_migrate.core.revision_graph import find_problems

pytestmark = pytest.mark.filterwarnings("ignore")  # Alembic warns on duplicate ids, ...

EXAMPLES = int(os.environ.get("REVISIONS_EXAMPLES", "150"))
GRAPH_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
LABELS = ("feature", "featurex", "core", "b2ab")  # prefixes overlap each other and the ids


# -- generated histories -----------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn, max_size: int = 10) -> list[Revision]:
    """Random DAGs in a random load order: linear runs, branches, merges, several bases and heads,
    branch labels, depends_on (by id and by label), ids that share prefixes, ids too short to prefix.
    """
    n = draw(st.integers(1, max_size))
    ids = draw(
        st.lists(st.text("ab12", min_size=2, max_size=6), min_size=n, max_size=n, unique=True)
    )
    shape: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for i, rev_id in enumerate(ids):
        earlier = ids[:i]
        kind = (
            draw(st.sampled_from(["base", "linear", "linear", "linear", "merge"]))
            if earlier
            else "base"
        )
        if kind == "linear" or (kind == "merge" and len(earlier) < 2):
            downs: tuple[str, ...] = (draw(st.sampled_from(earlier)),)
        elif kind == "merge":
            downs = tuple(
                draw(st.lists(st.sampled_from(earlier), min_size=2, max_size=3, unique=True))
            )
        else:
            downs = ()
        deps: tuple[str, ...] = ()
        if earlier and draw(st.integers(0, 2)) == 0:
            deps = tuple(
                draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2, unique=True))
            )
        shape.append((rev_id, downs, deps))
    pool = [label for label in LABELS if label not in ids]
    labelled = draw(st.lists(st.sampled_from(ids), max_size=len(pool), unique=True))
    labels = {rev_id: (label,) for rev_id, label in zip(labelled, pool)}
    label_deps = draw(st.booleans())
    order = draw(st.permutations(range(n)))
    return [
        Revision(
            rev_id,
            downs,
            labels.get(rev_id, ()),
            tuple(labels[d][0] if label_deps and d in labels else d for d in deps),
            path=f"{rev_id}.py",
        )
        for rev_id, downs, deps in (shape[i] for i in order)
    ]


def alembic_map(revisions: list[Revision]) -> RevisionMap:
    return RevisionMap(
        lambda: [
            AlembicRevision(
                r.revision,
                r.down_revisions,
                dependencies=r.depends_on,
                branch_labels=r.branch_labels,
            )
            for r in revisions
        ]
    )


@GRAPH_SETTINGS
@given(histories())
def test_sound_histories_have_alembics_heads(revisions: list[Revision]) -> None:
    """The headers read statically give the map Alembic builds: the same heads."""
    assert find_problems(revisions) == ()
    assert History(revisions).heads == alembic_map(revisions).heads


# -- broken histories --------------------------------------------------------------------------------


@st.composite
def broken_histories(draw: st.DrawFn) -> tuple[list[Revision], str, str]:
    revisions = draw(histories(max_size=8))
    ids = [r.revision for r in revisions]
    fault = draw(
        st.sampled_from(
            ["duplicate", "missing", "missing-dependency", "cycle", "self-loop", "label"]
        )
    )
    i = draw(st.integers(0, len(revisions) - 1))
    rev = revisions[i]
    if fault == "duplicate":
        revisions.append(Revision(rev.revision, (), path="copy.py"))
        kind = "duplicate-revision"
    elif fault in ("missing", "missing-dependency"):
        field = "down_revisions" if fault == "missing" else "depends_on"
        revisions[i] = _replace(rev, **{field: getattr(rev, field) + ("ffff",)})
        kind = "missing-revision"
    elif fault == "self-loop":
        revisions[i] = _replace(rev, down_revisions=rev.down_revisions + (rev.revision,))
        kind = "cycle"
    elif fault == "cycle":
        # make one of rev's ancestors (or rev itself) also come after rev
        ancestors = _ancestors(revisions, rev.revision)
        target = draw(st.sampled_from(sorted(ancestors)))
        j = ids.index(target)
        revisions[j] = _replace(
            revisions[j], down_revisions=revisions[j].down_revisions + (rev.revision,)
        )
        kind = "cycle"
    else:
        other = draw(st.sampled_from(ids))
        revisions[i] = _replace(rev, branch_labels=rev.branch_labels + (other,))
        kind = "duplicate-branch-label"
    return revisions, fault, kind


def _replace(rev: Revision, **changes: object) -> Revision:
    fields = {**rev.__dict__, **changes}
    return Revision(**fields)  # type: ignore[arg-type]


def _ancestors(revisions: list[Revision], rev_id: str) -> set[str]:
    by_id = {r.revision: r for r in revisions}
    todo, seen = [rev_id], set()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(by_id[current].down_revisions)
    return seen


@GRAPH_SETTINGS
@given(broken_histories())
def test_broken_histories_are_rejected(case: tuple[list[Revision], str, str]) -> None:
    """We reject every fault; Alembic rejects these too, except that it only warns about duplicate
    ids (the later file wins) and misses cycles that still reach a head and a base."""
    revisions, fault, kind = case
    problems = find_problems(revisions)
    assert kind in {p.kind for p in problems}
    for problem in problems:
        assert problem.message and problem.paths
    if fault not in ("duplicate", "cycle"):
        with pytest.raises(Exception):  # noqa: B017 - KeyError, RevisionError, LoopDetected, ...
            alembic_map(revisions).heads  # noqa: B018


# -- files: Alembic's own generated files ------------------------------------------------------------

TEMPLATE = Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"


@pytest.fixture
def script_dir() -> Iterator[ScriptDirectory]:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(TEMPLATE, Path(tmp, "script.py.mako"))
        Path(tmp, "versions").mkdir()
        yield ScriptDirectory(tmp)


def parse_directory(script: ScriptDirectory) -> list[Revision]:
    """What the plugin does: list the versions directory like Alembic, read each file, no imports."""
    versions = Path(script.versions)
    return [
        parse_revision_file(str(versions / name), (versions / name).read_bytes())
        for name in sorted(os.listdir(versions))
        if is_revision_file(name) and (versions / name).is_file()
    ]


@settings(
    max_examples=max(EXAMPLES // 5, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_alembic_generated_histories(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(TEMPLATE, Path(tmp, "script.py.mako"))
        Path(tmp, "versions").mkdir()
        script = ScriptDirectory(tmp)
        generated: list[str] = []
        for n in range(data.draw(st.integers(1, 8))):
            rev_id = f"{n:02d}{data.draw(st.sampled_from(['aa', 'ab', 'ba']))}{n}"
            heads = script.get_heads()
            if not generated or data.draw(st.integers(0, 5)) == 0:
                head, labels = "base", (f"branch{n}",)
            else:
                head = tuple(
                    data.draw(st.lists(st.sampled_from(heads), min_size=1, max_size=2, unique=True))
                )
                labels = ()
            deps = data.draw(st.lists(st.sampled_from(generated), max_size=1)) if generated else []
            message = data.draw(
                st.sampled_from(["add users", "Merge heads", "ünïcode message", "two\nlines"])
            )
            script.generate_revision(
                rev_id,
                message,
                head=head,
                splice=True,
                branch_labels=labels or None,
                depends_on=deps or None,
            )
            generated.append(rev_id)
        fresh = ScriptDirectory(tmp)  # a second instance loads everything from the files
        revisions = parse_directory(fresh)
        assert History(revisions).heads == tuple(fresh.get_heads())
        for rev in revisions:
            theirs = fresh.get_revision(rev.revision)
            assert rev.path == theirs.path
            assert rev.message == theirs.doc
            assert rev.down_revisions == alembic_util.to_tuple(theirs.down_revision, default=())
            assert rev.depends_on == alembic_util.to_tuple(theirs.dependencies, default=())
            assert rev.branch_labels == theirs._orig_branch_labels


# -- files: hand-varied headers ----------------------------------------------------------------------


def quoted(draw: st.DrawFn, value: str) -> str:
    return draw(st.sampled_from([repr(value), f'"{value}"']))


def literal(draw: st.DrawFn, value: tuple[str, ...] | None, allow_scalar: bool = True) -> str:
    if value is None:
        return draw(st.sampled_from(["None", "()", "[]"]))
    if len(value) == 1 and allow_scalar and draw(st.booleans()):
        return quoted(draw, value[0])
    items = [quoted(draw, v) for v in value]
    if draw(st.booleans()):
        return "[" + ", ".join(items) + "]"
    body = ", ".join(items) + ("," if len(items) == 1 or draw(st.booleans()) else "")
    return (
        "("
        + (body if not draw(st.booleans()) else "\n    " + body.replace(", ", ",\n    ") + "\n")
        + ")"
    )


@st.composite
def revision_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A revision file written some way people write them (or with one thing wrong)."""
    rev = draw(st.sampled_from(["ae1027a6acf", "1975ea83b712", "abc"]))
    down = draw(st.sampled_from([None, ("27c6a30d7c24",), ("27c6a30d7c24", "3e8c5a1d3a1b")]))
    labels = draw(st.sampled_from([None, ("core",), ("core", "extra")]))
    deps = draw(st.sampled_from([None, ("27c6a30d7c24",)]))
    message = draw(
        st.sampled_from(["Add users", "ünïcode — message", "two\nline message", "", "tab\tand \\n"])
    )
    docstring = draw(
        st.sampled_from(
            [
                '"""{m}\n\nRevision ID: {r}\nRevises: x\nCreate Date: 2024-01-01\n\n"""',
                "'''{m}'''",
                '"{m}"',
                'r"""{m}\n\n"""',
                '"""\n    {m}\n\n    details\n"""',
                '"""{m}\n\nrevision = "fake"\ndown_revision = None\n"""',
                "",
                '# a comment first\n"""{m}"""',
                'x = 1\n"""not a docstring"""',
            ]
        )
    )
    annotated = draw(st.booleans())
    assignments = [
        ("revision", "str", quoted(draw, rev)),
        ("down_revision", "Union[str, Sequence[str], None]", literal(draw, down)),
    ]
    if labels is not None or draw(st.booleans()):
        assignments.append(
            ("branch_labels", "Union[str, Sequence[str], None]", literal(draw, labels))
        )
    if deps is not None or draw(st.booleans()):
        assignments.append(("depends_on", "Union[str, Sequence[str], None]", literal(draw, deps)))
    assignments = draw(st.permutations(assignments))
    header = "\n".join(
        f"{name}: {annotation} = {value}" if annotated else f"{name} = {value}"
        for name, annotation, value in assignments
    )
    if draw(st.integers(0, 5)) == 0:
        header += f"\nrevision = {quoted(draw, rev)}  # again, same value"
    if draw(st.integers(0, 5)) == 0:
        header = header.replace(
            f"= {assignments[0][2]}", f"= {assignments[0][2]}  # trailing comment", 1
        )
    body = draw(
        st.sampled_from(
            [
                "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
                "def upgrade():\n    revision = 'local'  # not the module's\n    op.add_column('t', sa.Column('revision', sa.String()))\n\n\ndef downgrade():\n    op.drop_column('t', 'revision')\n",
                'def upgrade():\n    op.execute("""\n    UPDATE t SET x = 1;\n    """)\n\n\ndef downgrade():\n    pass\n',
                "def upgrade():\n    pass\n",
            ]
        )
    )
    text = (
        docstring.format(m=message, r=rev)
        + "\nfrom typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n"
        + "# revision identifiers, used by Alembic.\n"
        + header
        + "\n\n\n"
        + body
    )
    fault = draw(
        st.sampled_from([None] * 6 + ["syntax", "indent", "return", "no-revision", "no-down"])
    )
    if fault == "syntax":
        text += "\ndef broken(:\n    pass\n"
    elif fault == "indent":
        text += "\n  x = 1\n"
    elif fault == "return":
        text += "\nreturn 1\n"
    elif fault == "no-revision":
        text = "\n".join(line for line in text.split("\n") if not line.startswith("revision"))
    elif fault == "no-down":
        text = "\n".join(
            line for line in text.split("\n") if not line.startswith("down_revision") or "(" in line
        )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
    if encoding == "latin-1":
        text = "# -*- coding: latin-1 -*-\n" + text.replace("—", "-")
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    name = draw(st.sampled_from([f"{rev}_add_users.py", f"{rev}.py", "0001_initial.py"]))
    return name, text.encode(encoding)


@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(revision_files())
def test_reading_files_matches_alembic_loading_them(case: tuple[str, bytes]) -> None:
    name, source = case
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "versions").mkdir()
        path = Path(tmp, "versions", name)
        path.write_bytes(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = Script._from_path(ScriptDirectory(tmp), path)
        except (SyntaxError, alembic_util.CommandError, AttributeError) as e:
            with pytest.raises(RevisionFileError) as raised:
                parse_revision_file(str(path), source)
            if isinstance(e, SyntaxError):
                assert raised.value.line == e.lineno
            return
        ours = parse_revision_file(str(path), source)
    assume(theirs is not None)
    assert ours == Revision(
        revision=theirs.revision,
        down_revisions=alembic_util.to_tuple(theirs.down_revision, default=()),
        branch_labels=theirs._orig_branch_labels,
        depends_on=alembic_util.to_tuple(theirs.dependencies, default=()),
        message=theirs.doc,
        path=str(path),
    )


@settings(max_examples=EXAMPLES * 4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(revision_files())
def test_the_pre_flight_header_reader_agrees_with_the_full_parse(case: tuple[str, bytes]) -> None:
    """`read_revision_header` (no compile) reads exactly what `parse_revision_file` reads.

    Files the full parse rejects only for their body's syntax may pass the header reader: those
    are `pants lint`'s and Alembic's load-time job. Header faults stay errors in both.
    """
    name, source = case
    path = f"versions/{name}"
    try:
        full = parse_revision_file(path, source)
    except RevisionFileError as e:
        if "SyntaxError" in e.message or "IndentationError" in e.message:
            return
        with pytest.raises(RevisionFileError):
            read_revision_header(path, source)
        return
    assert read_revision_header(path, source) == full


# -- files: a header name bound every other way Python allows -----------------------------------------

# (form, whether Python leaves the module-level value alone, so the reader must read it, not refuse)
REBINDINGS = [
    ("if True:\n    {name} = {value}", False),
    ("if False:\n    {name} = {value}", False),
    ("try:\n    {name} = {value}\nexcept Exception:\n    pass", False),
    ("try:\n    pass\nfinally:\n    {name} = {value}", False),
    ("for {name} in [{value}]:\n    pass", False),
    ("while True:\n    {name} = {value}\n    break", False),
    ("with contextlib.nullcontext({value}) as {name}:\n    pass", False),
    ("{name}, _unpacked = {value}, 1", False),
    ("[{name}, _unpacked] = [{value}, 1]", False),
    ("({name} := {value})", False),
    ("_walrus = [1 for _ in [0] if ({name} := {value})]", False),
    ("def _rebind():\n    global {name}\n    {name} = {value}\n\n\n_rebind()", False),
    ("def _rebind():\n    global {name}\n    {name} = {value}", False),
    ("class _Rebind:\n    global {name}\n    {name} = {value}", False),
    ('globals()["{name}"] = {value}', False),
    ('setattr(sys.modules[__name__], "{name}", {value})', False),
    ("from os.path import sep as {name}", False),
    ("import os as {name}", False),
    ("{name} += {value}", False),
    ("del {name}", False),
    ("{name}: str = {value}", True),
    ("{name} = _same = {value}", True),
    ("_comprehension = [{name} for {name} in [{value}]]", True),
    ("def _local():\n    {name} = {value}", True),
    ("class _Scoped:\n    {name} = {value}", True),
    ('_text = """\n{name} = {value}\n"""', True),
    ("_call = dict(\n{name} = {value}\n)", True),
    ("# {name} = {value}", True),
    ('print("{name}")', True),
]


@st.composite
def rebound_files(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """A plain revision file with one header name (or `__doc__`) bound once more, some other way."""
    name = draw(
        st.sampled_from(["revision", "down_revision", "branch_labels", "depends_on", "__doc__"])
    )
    value = draw(st.sampled_from(['"b2aa"', '("b2aa", "c3aa")', "None", '"Rebound doc"']))
    form, readable = draw(st.sampled_from(REBINDINGS))
    header = [
        'revision = "a1aa"',
        'down_revision = "f0aa"',
        "branch_labels = None",
        "depends_on = None",
    ]
    binding = form.format(name=name, value=value)
    at = draw(st.integers(0, len(header)))
    lines = header[:at] + [binding] + header[at:]
    text = (
        '"""Add users\n\nRevision ID: a1aa\n"""\nimport contextlib\nimport sys\n\n'
        + "\n".join(lines)
        + "\n\n\ndef upgrade() -> None:\n    pass\n"
    )
    return "a1aa_add_users.py", text.encode(), readable


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rebound_files())
def test_rebound_header_names_are_read_as_python_binds_them_or_refused(
    case: tuple[str, bytes, bool]
) -> None:
    name, source, readable = case
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "versions").mkdir()
        path = Path(tmp, "versions", name)
        path.write_bytes(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = Script._from_path(ScriptDirectory(tmp), path)
            expected = Revision(
                revision=theirs.revision,
                down_revisions=alembic_util.to_tuple(theirs.down_revision, default=()),
                branch_labels=theirs._orig_branch_labels,
                depends_on=alembic_util.to_tuple(theirs.dependencies, default=()),
                message=theirs.doc,
                path=str(path),
            )
        except (alembic_util.CommandError, AttributeError, TypeError):
            expected = None  # it imports, and Alembic finds no usable header in it
        except Exception:
            # It fails to import at all (`revision += ...` before any binding): a broken body that
            # the runner reports when Alembic loads it, whatever the header reader said.
            assume(False)
        try:
            ours = read_revision_header(str(path), source)
        except RevisionFileError as e:
            if (
                readable and expected is not None
            ):  # only a value no revision can hold, e.g. a tuple id
                assert " must be " in e.message, f"refused a readable file: {e}"
            assert e.line is None or e.line >= 1
            return
    assert expected is not None, "read a header Alembic cannot use"
    assert ours == expected

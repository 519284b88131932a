"""revisions.py against Alembic itself: same files, same graphs, same answers (and the same failures).

Runs in the repo's resolve (CPython 3.11, alembic, hypothesis). Graph properties compare with
`RevisionMap` built from the same revisions in the same load order; file reading compares with
`Script._from_path`, on files Alembic's own `generate_revision` wrote and on hand-varied headers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Iterator

import alembic
import pytest
from alembic import util as alembic_util
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import (
    MultipleHeads,
    RangeNotAncestorError,
    ResolutionError,
    RevisionMap,
)
from alembic.script.revision import Revision as AlembicRevision
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from db_migrate.revisions import (
    InvalidRevisionGraph,
    Revision,
    RevisionFileError,
    RevisionGraph,
    TargetError,
    heads_of,
    is_revision_file,
    parse_revision_file,
    read_revision_header,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore"
)  # Alembic warns on duplicate ids, ambiguous `-1`, ...

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


def targets(revisions: list[Revision]) -> list[str]:
    """Every kind of target Alembic's upgrade/downgrade accept, valid or not, for this history."""
    ids = [r.revision for r in revisions]
    labels = [label for r in revisions for label in r.branch_labels]
    prefixes = sorted(
        {rev_id[:k] for rev_id in ids for k in range(1, len(rev_id))} | {"feat", "b2a", "zzzz"}
    )
    found = [
        "head",
        "heads",
        "base",
        "+0",
        "+1",
        "+2",
        "-1",
        "-2",
        "-0",
        "head-1",
        "head+1",
        "heads-1",
    ]
    found += ["base+1", "base+2", "base-1", "a@b", "@head", "head@"]
    found += ids + prefixes + labels
    for rev_id in ids:
        found += [f"{rev_id}@head", f"{rev_id}+1", f"{rev_id}-1", f"{rev_id}+2", f"{rev_id}@-1"]
    for label in labels + ["nolabel"]:
        found += [f"{label}@head", f"{label}@heads", f"{label}@base", f"{label}@+1", f"{label}@-1"]
        found += [f"{label}@head-1", f"{label}@base+1", f"{label}@+2"]
        found += [f"{label}@{rev_id[:3]}" for rev_id in ids[:3]]
    return found


def current_states(revisions: list[Revision], graph: RevisionGraph) -> list[tuple[str, ...]]:
    ids = [r.revision for r in revisions]
    states = [(), graph.heads, graph.real_heads, *((i,) for i in ids)]
    states += [(a, b) for a, b in zip(ids, ids[1:])][:3]
    return list(dict.fromkeys(states))


# -- comparing outcomes ------------------------------------------------------------------------------


def alembic_outcome(fn: Callable[..., object], *args: object) -> tuple[str, object]:
    try:
        return "ok", fn(*args)
    except ResolutionError:
        return "error", "resolution"
    except MultipleHeads:
        return "error", "multiple-heads"
    except RangeNotAncestorError:
        return "error", "not-ancestor"
    except Exception as e:  # RevisionError, and the AssertionErrors Alembic uses as checks
        return "error", type(e).__name__


def our_outcome(fn: Callable[..., object], *args: object) -> tuple[str, object]:
    try:
        return "ok", fn(*args)
    except TargetError as e:
        assert e.message
        return "error", {
            "unknown": "resolution",
            "ambiguous": "resolution",
            "not-on-branch": "resolution",
        }.get(e.kind, e.kind)


def assert_same(what: str, theirs: tuple[str, object], ours: tuple[str, object]) -> None:
    if theirs[0] == "error" and ours[0] == "error":
        # Alembic's own exception classes must map onto our kinds; its bare RevisionErrors and
        # AssertionErrors may map onto any of ours.
        if theirs[1] in ("resolution", "multiple-heads", "not-ancestor"):
            assert ours[1] == theirs[1], what
        return
    assert theirs == ours, what


def ids_of(revisions: object) -> tuple[str, ...]:
    return tuple(r.revision for r in revisions)  # type: ignore[attr-defined]


def denoted(rev: object) -> tuple[str, ...]:
    """What `_parse_downgrade_target` denotes: a revision, or base (None / "base")."""
    return () if rev is None or rev == "base" else (rev.revision,)  # type: ignore[attr-defined]


def upgrade_targets(parsed: tuple) -> tuple[str, ...]:
    """What `_parse_upgrade_target` denotes; anything but revisions is an assertion in Alembic's upgrade."""
    assert all(isinstance(r, AlembicRevision) for r in parsed)
    return tuple(r.revision for r in parsed)


# -- graph properties --------------------------------------------------------------------------------


# Labels stop spreading down at a revision that something depends on (a "real" branch point), and
# at merges; `depends_on` an ancestor, or through a label, still counts for ordering.
TRICKY = [
    [Revision("x1aa"), Revision("x2aa", ("x1aa",)), Revision("x3aa", ("x2aa",), ("feature",)),
     Revision("y1aa", (), (), ("x1aa",))],
    [Revision("m1aa"), Revision("m2aa"), Revision("m3aa", ("m1aa", "m2aa")), Revision("m4aa", ("m3aa",), ("core",))],
    [Revision("d1aa"), Revision("d2aa", ("d1aa",), (), ("d1aa",)), Revision("d3aa", ("d1aa",), ("feature",)),
     Revision("d4aa", (), (), ("feature", "d2aa"))],
]  # fmt: skip


@GRAPH_SETTINGS
@given(histories())
@example(TRICKY[0])
@example(TRICKY[1])
@example(TRICKY[2])
def test_structure_matches_revision_map(revisions: list[Revision]) -> None:
    assert heads_of(revisions) == RevisionGraph(revisions).heads
    rmap = alembic_map(revisions)
    graph = RevisionGraph(revisions)
    assert graph.heads == rmap.heads
    assert graph.real_heads == rmap._real_heads
    assert graph.bases == rmap.bases
    for rev in revisions:
        theirs = rmap.get_revision(rev.revision)
        assert graph.branch_labels(rev.revision) == theirs.branch_labels, rev.revision
        assert set(graph.children(rev.revision)) == theirs.nextrev
        assert (rev.revision in graph.branch_points) == theirs.is_branch_point
        assert (rev.revision in graph.merge_points) == theirs.is_merge_point
    history = rmap.iterate_revisions("heads", "base", inclusive=True, assert_relative_length=False)
    assert ids_of(graph.history()) == ids_of(history)


@GRAPH_SETTINGS
@given(histories(), st.data())
def test_targets_and_plans_match_revision_map(
    revisions: list[Revision], data: st.DataObject
) -> None:
    chosen = data.draw(st.lists(st.sampled_from(targets(revisions)), min_size=25, max_size=25))
    assert_targets_match(revisions, [*chosen, "head", "heads", "base"])


@pytest.mark.parametrize("revisions", TRICKY)
def test_every_target_on_tricky_histories(revisions: list[Revision]) -> None:
    assert_targets_match(revisions, targets(revisions))


# The same question put to Alembic's RevisionMap and to our graph: (name, theirs, ours).
QUESTIONS: list[tuple[str, Callable[..., object], Callable[..., object]]] = [
    (
        "upgrade plan",  # what ScriptDirectory._upgrade_revs runs
        lambda rmap, target, current: ids_of(
            reversed(list(rmap.iterate_revisions(target, current, implicit_base=True)))
        ),
        lambda graph, target, current: ids_of(graph.upgrade_plan(target, current)),
    ),
    (
        "downgrade plan",  # what ScriptDirectory._downgrade_revs runs
        lambda rmap, target, current: ids_of(
            rmap.iterate_revisions(current, target, select_for_downgrade=True)
        ),
        lambda graph, target, current: ids_of(graph.downgrade_plan(target, current)),
    ),
    (
        "upgrade target",
        lambda rmap, target, current: upgrade_targets(
            rmap._parse_upgrade_target(current, target, True)
        ),
        lambda graph, target, current: graph.resolve(target, current),
    ),
    (
        "downgrade target",
        lambda rmap, target, current: denoted(
            rmap._parse_downgrade_target(current, target, True)[1]
        ),
        lambda graph, target, current: graph.resolve(target, current, downgrade=True),
    ),
]


def assert_targets_match(revisions: list[Revision], chosen: list[str]) -> None:
    """Every question, for every chosen target, from several current states."""
    rmap = alembic_map(revisions)
    graph = RevisionGraph(revisions)
    for current in current_states(revisions, graph):
        for target in dict.fromkeys(chosen):
            for question, theirs, ours in QUESTIONS:
                assert_same(
                    f"{question} for {target!r} from {current!r}",
                    alembic_outcome(theirs, rmap, target, current),
                    our_outcome(ours, graph, target, current),
                )


def test_the_generated_histories_reach_the_interesting_cases() -> None:
    """A guard on the generator: these outcomes all occur in a fixed sample of histories."""
    seen: set[str] = set()

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(histories())
    def sample(revisions: list[Revision]) -> None:
        graph = RevisionGraph(revisions)
        seen.update(
            name
            for name, present in (
                ("several heads", len(graph.heads) > 1),
                ("several bases", len(graph.bases) > 1),
                ("merge", bool(graph.merge_points)),
                ("branch point", bool(graph.branch_points)),
                ("depends_on", any(r.depends_on for r in revisions)),
                (
                    "label inherited",
                    any(graph.branch_labels(r.revision) - set(r.branch_labels) for r in revisions),
                ),
                ("real heads differ", graph.real_heads != graph.heads),
            )
            if present
        )
        for target in targets(revisions):
            outcome = our_outcome(graph.upgrade_plan, target, ())
            if outcome[0] == "error":
                seen.add(f"error {outcome[1]}")
            elif outcome[1]:
                seen.add("plan")

    sample()
    assert seen >= {
        "several heads", "several bases", "merge", "branch point", "depends_on", "label inherited",
        "real heads differ", "plan", "error resolution", "error multiple-heads", "error relative",
    }  # fmt: skip


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
    with pytest.raises(InvalidRevisionGraph) as raised:
        RevisionGraph(revisions)
    assert kind in {p.kind for p in raised.value.problems}
    for problem in raised.value.problems:
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
        graph = RevisionGraph(revisions)
        assert graph.heads == tuple(fresh.get_heads())
        assert graph.bases == tuple(fresh.get_bases())
        assert ids_of(graph.history()) == ids_of(fresh.walk_revisions())
        for rev in revisions:
            theirs = fresh.get_revision(rev.revision)
            assert rev.path == theirs.path
            assert rev.message == theirs.doc
            assert rev.down_revisions == alembic_util.to_tuple(theirs.down_revision, default=())
            assert rev.depends_on == alembic_util.to_tuple(theirs.dependencies, default=())
            assert rev.branch_labels == theirs._orig_branch_labels
        all_heads = tuple(fresh.get_heads())
        for target in ["heads", "base", *generated]:
            assert_same(
                f"upgrade {target}",
                alembic_outcome(steps, fresh._upgrade_revs, target, ()),
                our_outcome(lambda t: ids_of(graph.upgrade_plan(t, ())), target),
            )
            assert_same(
                f"downgrade {target}",
                alembic_outcome(steps, fresh._downgrade_revs, target, all_heads),
                our_outcome(lambda t: ids_of(graph.downgrade_plan(t, all_heads)), target),
            )


def steps(plan: Callable[..., list], *args: object) -> tuple[str, ...]:
    """The revisions of the MigrationSteps ScriptDirectory plans, in order."""
    return tuple(step.revision.revision for step in plan(*args))


def test_files_alembic_skips_are_skipped(script_dir: ScriptDirectory) -> None:
    versions = Path(script_dir.versions)
    script_dir.generate_revision("aaaa1111", "first", head="base")
    for name in ("__init__.py", "__init__x.py", ".#lock.py", "notes.txt", "x.pyc", "README"):
        (versions / name).write_text("not a revision (\n")
    loaded = {s.revision for s in ScriptDirectory(script_dir.dir).walk_revisions()}
    assert loaded == {r.revision for r in parse_directory(script_dir)} == {"aaaa1111"}


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

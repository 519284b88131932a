from __future__ import annotations

import hashlib

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.engine.fs import FileDigest, FileEntry

from db_migrate.core.revision_file import Revision
from db_migrate.core.revision_graph import InvalidRevisionGraph
from db_migrate.rules.component_setup import (
    REVISION_MAPS,
    ComponentSetup,
    RevisionFileMemo,
    RevisionMaps,
    _history,
)


def _chain(n: int, message: str = "Step") -> tuple:
    return tuple(
        Revision(
            revision=f"r{i:04d}",
            down_revisions=(f"r{i - 1:04d}",) if i else (),
            message=f"{message} {i}",
            path=f"versions/r{i:04d}.py",
        )
        for i in range(n)
    )


def test_an_edit_that_keeps_the_links_reuses_alembics_map() -> None:
    maps = RevisionMaps()
    first = maps.history(_chain(50))
    edited = maps.history(_chain(50, message="Edited"))
    assert edited.map is first.map
    assert edited.get("r0010").message == "Edited 10"  # the revisions are the new ones
    assert [r.revision for r in edited.upgrade_plan("heads", ("r0047",))] == ["r0048", "r0049"]


def test_a_new_revision_builds_a_new_map() -> None:
    maps = RevisionMaps()
    first = maps.history(_chain(50))
    longer = maps.history(_chain(51))
    assert longer.map is not first.map
    assert (first.heads, longer.heads) == (("r0049",), ("r0050",))


def test_only_the_latest_maps_are_kept() -> None:
    maps = RevisionMaps(limit=2)
    oldest = maps.history(_chain(10))
    maps.history(_chain(11))
    maps.history(_chain(12))
    assert maps.history(_chain(12)).map is maps.history(_chain(12)).map
    assert maps.history(_chain(10)).map is not oldest.map


def test_a_plan_is_asked_of_alembic_once_per_shape_and_stays_right() -> None:
    maps = RevisionMaps()
    first = maps.history(_chain(50))
    planned = first.upgrade_plan("heads", ("r0047",))
    edited = maps.history(_chain(50, message="Edited"))
    again = edited.upgrade_plan("heads", ("r0047",))
    assert [r.revision for r in again] == [r.revision for r in planned] == ["r0048", "r0049"]
    assert again[0].message == "Edited 48"  # the plan's revisions are this history's
    assert len(edited.upgrade_plan("heads", ())) == 50
    longer = maps.history(_chain(51))
    assert [r.revision for r in longer.upgrade_plan("heads", ("r0047",))][-1] == "r0050"


def _setup(revisions: tuple) -> ComponentSetup:
    return ComponentSetup(
        field_set=None,  # type: ignore[arg-type]  # neither method reads it
        ini=None,
        revisions=revisions,
        files=tuple(r.path for r in revisions),
        config_problems=(),
        history_problems=(),
        heads=(revisions[-1].revision,),
    )


def test_a_setup_builds_its_history_once() -> None:
    setup = _setup(_chain(20))
    assert setup.history() is setup.history()
    twin = _setup(_chain(20))
    assert twin == setup and hash(twin) == hash(setup)  # what it keeps is not part of it
    assert twin.history() is not setup.history()


def test_the_heads_are_alembics_and_its_map_is_kept_for_the_goals() -> None:
    chain = _chain(30)
    assert _history(chain, (), "manager", "src::") == ((), ("r0029",))
    assert (
        REVISION_MAPS.history(_chain(30, message="Edited")).map is REVISION_MAPS.history(chain).map
    )
    unparsable = (("versions/r0030.py", (3, "invalid syntax")),)
    problems, heads = _history(chain, unparsable, "manager", "src::")
    assert len(problems) == 1 and heads == ()


def test_a_broken_history_has_problems_and_no_heads() -> None:
    chain = _chain(30)
    looped = chain[:-1] + (
        Revision("r0029", down_revisions=("r0029",), path=chain[-1].path),  # a self-loop
    )
    dangling = chain + (Revision("r0030", down_revisions=("nowhere",), path="versions/x.py"),)
    for broken in (looped, dangling):
        problems, heads = _history(broken, (), "manager", "src::")
        assert problems and heads == ()
        with pytest.raises(InvalidRevisionGraph):
            RevisionMaps().history(broken)


def _source(i: int, message: str = "Step") -> bytes:
    down = f'"r{i - 1:04d}"' if i else "None"
    return f'"""{message} {i}"""\nrevision = "r{i:04d}"\ndown_revision = {down}\n'.encode()


def _read(memo: RevisionFileMemo, files: dict) -> list:
    """What `component_setup` does per file: the memo's revision, else a parse."""
    out = []
    for path, content in files.items():
        fingerprint = hashlib.sha256(content).hexdigest()
        kept = memo.get(FileEntry(path, FileDigest(fingerprint, len(content))))
        out.append((kept or memo.parse(path, fingerprint, content)).revision)
    return out


def test_an_unchanged_files_revision_is_the_same_object_after_an_edit() -> None:
    memo = RevisionFileMemo()
    files = {f"versions/r{i:04d}.py": _source(i) for i in range(10)}
    before = _read(memo, files)
    assert before[3].checksum == hashlib.sha256(files["versions/r0003.py"]).hexdigest()
    files["versions/r0004.py"] = _source(4, message="Edited")
    after = _read(memo, files)
    assert all(a is b for i, (a, b) in enumerate(zip(before, after)) if i != 4)
    assert (after[4].message, after[4].revision) == ("Edited 4", "r0004")
    assert after[4].checksum == hashlib.sha256(files["versions/r0004.py"]).hexdigest()
    assert after[4].checksum != before[4].checksum

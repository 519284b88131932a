from __future__ import annotations

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.core.revision_file import Revision
from db_migrate.core.revision_graph import InvalidRevisionGraph
from db_migrate.rules.component_setup import REVISION_FACTS, ComponentSetup, RevisionMaps


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
        checksums=tuple((r.revision, f"sum-{r.revision}") for r in revisions),
        config_problems=(),
        history_problems=(),
        heads=(revisions[-1].revision,),
    )


def test_a_setup_builds_its_facts_and_its_history_once() -> None:
    setup = _setup(_chain(20))
    facts = setup.revision_facts()
    assert setup.revision_facts() is facts
    assert (facts[3].revision, facts[3].checksum, facts[3].down_revisions) == (
        "r0003",
        "sum-r0003",
        ("r0002",),
    )
    assert setup.history() is setup.history()
    twin = _setup(_chain(20))
    assert twin == setup and hash(twin) == hash(setup)  # what it keeps is not part of it
    assert twin.revision_facts() is not facts and twin.revision_facts() == facts


def test_only_a_shape_whose_map_was_built_is_sound() -> None:
    maps = RevisionMaps()
    chain = _chain(30)
    assert not maps.sound(chain)
    maps.history(chain)
    assert maps.sound(_chain(30, message="Edited"))  # same links
    looped = chain[:-1] + (
        Revision("r0029", down_revisions=("r0029",), path=chain[-1].path),  # a self-loop
    )
    with pytest.raises(InvalidRevisionGraph):
        maps.history(looped)
    assert not maps.sound(looped)
    dangling = chain + (Revision("r0030", down_revisions=("nowhere",), path="versions/x.py"),)
    assert not maps.sound(dangling)
    with pytest.raises(InvalidRevisionGraph):
        maps.history(dangling)


def test_an_unchanged_files_fact_is_the_same_object_after_an_edit() -> None:
    chain = _chain(10)
    before = _setup(chain).revision_facts()
    edited = chain[:4] + (Revision("r0004", ("r0003",), message="Edited", path=chain[4].path),)
    after = ComponentSetup(
        field_set=None,  # type: ignore[arg-type]
        ini=None,
        revisions=edited + chain[5:],
        files=(),
        checksums=tuple((r.revision, f"sum-{r.revision}") for r in chain[:4])
        + (("r0004", "edited-sum"),)
        + tuple((r.revision, f"sum-{r.revision}") for r in chain[5:]),
        config_problems=(),
        history_problems=(),
        heads=("r0009",),
    ).revision_facts()
    assert all(a is b for i, (a, b) in enumerate(zip(before, after)) if i != 4)
    assert (after[4].message, after[4].checksum) == ("Edited", "edited-sum")
    unsummed = Revision("r0004", ("r0003",), message="No file read", path=chain[4].path)
    assert REVISION_FACTS.fact(unsummed, "").message == "No file read"  # no checksum: not kept

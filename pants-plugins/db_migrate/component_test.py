from __future__ import annotations

from db_migrate.component import RevisionMaps
from db_migrate.revisions import Revision


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

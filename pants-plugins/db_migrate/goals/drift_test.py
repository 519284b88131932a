"""What `db-status --drift` says when there is nothing to compare with (no engine, no database)."""

from __future__ import annotations

from db_migrate.core.status_report import (
    AHEAD,
    NO_REVISION,
    NOT_RUNNING,
    UP_TO_DATE,
    ComponentStatus,
)
from db_migrate.goals.drift import (
    NO_REVISION as NOTHING_APPLIED,
)
from db_migrate.goals.drift import (
    NO_VERSION_TABLE,
    NOT_READ,
    UNKNOWN_REVISION,
    _unknowable,
)
from db_migrate.goals.status import _drift_note

TABLE = "alembic_version_billing"


def _live(**tables) -> dict:
    return {"objects": [], "version_tables": tables}


def test_no_version_table_is_said() -> None:
    status = ComponentStatus(NO_REVISION, (), ("a1",))
    check = _unknowable(status, _live(alembic_version_other=["x"]), TABLE)
    assert check is not None and check.state == NO_VERSION_TABLE and check.drifted
    assert check.lines == (
        "Drift: ⚠️ not compared: the database has no version table (alembic_version_billing),"
        " so no revision to expect",
    )


def test_an_empty_version_table_and_an_unknown_revision_are_said() -> None:
    empty = _unknowable(ComponentStatus(NO_REVISION, (), ("a1",)), _live(**{TABLE: []}), TABLE)
    assert empty is not None and empty.state == NOTHING_APPLIED
    ahead = ComponentStatus(AHEAD, ("feed",), ("a1",), unknown=("feed",))
    unknown = _unknowable(ahead, _live(**{TABLE: ["feed"]}), TABLE)
    assert unknown is not None and unknown.state == UNKNOWN_REVISION
    assert "records feed, which is not in these scripts' history" in unknown.lines[0]


def test_a_server_that_is_down_says_why() -> None:
    down = ComponentStatus(NOT_RUNNING, (), ("a1",), why="the development PostgreSQL is down")
    check = _unknowable(down, None, TABLE)
    assert check is not None and check.state == NOT_READ
    assert check.entry == {"why": "the development PostgreSQL is down"}


def test_a_database_at_a_known_revision_is_compared() -> None:
    at_head = ComponentStatus(UP_TO_DATE, ("a1",), ("a1",))
    assert _unknowable(at_head, _live(**{TABLE: ["a1"]}), TABLE) is None
    assert _unknowable(at_head, _live(**{f"public.{TABLE}": ["a1"]}), TABLE) is None


def test_the_summary_word() -> None:
    assert _drift_note(None) == ""
    assert _drift_note({"state": "clean", "differences": []}) == "no drift"
    assert _drift_note({"state": "drift", "differences": [{}]}) == "drifted: 1 difference"
    assert _drift_note({"state": "no-version-table"}) == "drift not compared"

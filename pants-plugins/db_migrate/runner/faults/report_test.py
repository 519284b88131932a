"""The block of every fault: what happened, where, the state now (or why unknown), what next."""

from __future__ import annotations

import pytest

from db_migrate.runner.faults import classify as c
from db_migrate.runner.faults.classify import Symptom
from db_migrate.runner.faults.report import fault_problem, fault_without_evidence
from db_migrate.runner.faults.scene import Scene
from db_migrate.runner.faults.state import StateAfter

SELECTOR = "src/ai/backend/accountmgr/models/alembic:migrations"
SCENE = Scene(
    component="accountmgr",
    selector=SELECTOR,
    server="db.internal:5432",
    activity="while applying fa17fa17fa17 (Slow backfill, versions/fa17fa17fa17_slow_backfill.py)",
    revision="fa17fa17fa17",
    last_known="0deb1ff2f24a (the revisions before fa17fa17fa17 committed)",
    continue_command=f"pants db-migrate {SELECTOR}",
    lock_timeout="5s",
    statement_timeout="2min",
    network_timeout=30,
)
CONNECTION = Symptom(c.ADMIN_SHUTDOWN, "terminating connection due to administrator command", True)
STATEMENT = Symptom(c.QUERY_CANCELED, "canceling statement due to statement timeout", False)
KNOWN = StateAfter(("0deb1ff2f24a",), "on the migration's own session", True)
UNKNOWN = StateAfter(
    None, "Connection refused to db.internal:5432, for 10 s after the failure", False
)

TITLES = {
    c.SESSION_TERMINATED: "Connection terminated by an administrator",
    c.SERVER_RESTARTED: "PostgreSQL restarted during the migration",
    c.SERVER_SHUT_DOWN: "PostgreSQL shut down during the migration",
    c.SERVER_STOPPED_IMMEDIATELY: "PostgreSQL shut down immediately during the migration",
    c.SERVER_CRASHED: "PostgreSQL crashed during the migration",
    c.CONNECTION_LOST: "Lost the connection to the database",
    c.NETWORK_SILENT: "No answer from the database for 30 s",
    c.STATEMENT_TIMEOUT: "Migration fa17fa17fa17 ran longer than statement_timeout (2min)",
    c.STATEMENT_CANCELED: "A migration statement was cancelled",
    c.LOCK_TIMEOUT: "Migration fa17fa17fa17 could not get a lock within lock_timeout (5s)",
}


@pytest.mark.parametrize("fault", sorted(TITLES))
@pytest.mark.parametrize("after", [KNOWN, UNKNOWN])
def test_every_fault_says_what_where_the_state_and_how_to_go_on(fault, after):
    seen = CONNECTION if fault not in (c.STATEMENT_TIMEOUT, c.LOCK_TIMEOUT) else STATEMENT
    problem = fault_problem(fault, seen, SCENE, after, None)
    text = problem.render()
    assert problem.kind == fault
    assert text.startswith(f"❌ Error: {TITLES[fault]}\n")
    assert "fa17fa17fa17 (Slow backfill" in text
    if after.known:
        assert "The database is at 0deb1ff2f24a (read back on the migration's own session)." in text
        assert "fa17fa17fa17 is not applied: its changes were rolled back." in text
        assert "db-status" not in text
    else:
        assert (
            "The database state is unknown: the server could not be reached (Connection refused"
            in text
        )
        assert "Last known: 0deb1ff2f24a (the revisions before fa17fa17fa17 committed)." in text
        assert f"When it answers, see where the database is: pants db-status {SELECTOR}" in text
    assert f"Continue: pants db-migrate {SELECTOR}" in text
    for blame in ("bug in pants-db-migrate", "Review the migration file"):
        assert blame not in text


def test_a_revision_that_committed_before_the_connection_went_is_said_applied():
    after = StateAfter(("fa17fa17fa17",), "after reconnecting, 0.5 s later", True, restarted=True)
    text = fault_problem(c.SERVER_RESTARTED, CONNECTION, SCENE, after, None).render()
    assert "The database is at fa17fa17fa17 (read back after reconnecting, 0.5 s later)." in text
    assert "fa17fa17fa17 committed before the connection went." in text


def test_a_fault_outside_any_run_is_still_the_servers():
    problem = fault_without_evidence("accountmgr", SELECTOR, CONNECTION)
    text = problem.render()
    assert text.startswith("❌ Error: Lost the connection to the database\n")
    assert '"terminating connection due to administrator command"' in text
    assert f"pants db-status {SELECTOR}" in text
    assert "bug in pants-db-migrate" not in text


def test_a_one_transaction_run_says_the_revisions_before_went_with_it():
    scene = Scene(**{**SCENE.__dict__, "with_it": ("ac29778c6bf9", "0deb1ff2f24a")})
    after = StateAfter((), "after reconnecting, 0.5 s later", True, restarted=True)
    text = fault_problem(c.SERVER_RESTARTED, CONNECTION, scene, after, None).render()
    assert "The database is at <base> (read back after reconnecting, 0.5 s later)." in text
    assert (
        "The run was one transaction: the 2 revision(s) it applied before fa17fa17fa17 were"
        " rolled back with it." in text
    )

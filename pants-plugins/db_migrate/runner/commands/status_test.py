from __future__ import annotations

import json
import os
import subprocess
import sys

from db_migrate.core.history import History
from db_migrate.core.revision_file import Revision
from db_migrate.core.status_report import (
    AHEAD,
    BEHIND,
    CHANGED,
    DIVERGED,
    NO_REVISION,
    NOT_CREATED,
    NOT_RUNNING,
    READ,
    UP_TO_DATE,
    ComponentStatus,
    DatabaseFacts,
    classify,
    outcome_fields,
    render_history,
    render_status,
    short_state,
    status_of,
    status_text,
)
from db_migrate.runner.commands.status import unrecorded_line


def rev(revision: str, *down: str) -> Revision:
    return Revision(
        revision=revision,
        down_revisions=tuple(down),
        message=f"Do {revision}",
        path=f"v/{revision}.py",
    )


LINE = History((rev("a"), rev("b", "a"), rev("c", "b")))
FORKED = History((rev("a"), rev("b", "a"), rev("x", "b"), rev("y", "b")))
MERGED = History((rev("a"), rev("x", "a"), rev("y", "a"), rev("m", "x", "y")))


def ids(status: ComponentStatus) -> list:
    return [r.revision for r in status.pending]


def test_the_five_states():
    assert classify(LINE, ("c",)).state == UP_TO_DATE
    behind = classify(LINE, ("a",))
    assert (behind.state, ids(behind)) == (BEHIND, ["b", "c"])
    fresh = classify(LINE, ())
    assert (fresh.state, ids(fresh)) == (NO_REVISION, ["a", "b", "c"])
    diverged = classify(FORKED, ("b",))
    assert (diverged.state, set(ids(diverged))) == (DIVERGED, {"x", "y"})
    assert (
        classify(FORKED, ("x", "y")).state == DIVERGED
    )  # applied both heads: still diverged scripts
    ahead = classify(LINE, ("zzz",))
    assert (ahead.state, ahead.unknown) == (AHEAD, ("zzz",))
    assert "zzz" in ahead.why


def test_merge_point_pending_from_one_branch():
    status = classify(MERGED, ("x",))
    assert (status.state, ids(status)) == (BEHIND, ["y", "m"])
    assert classify(MERGED, ("m",)).state == UP_TO_DATE


def test_render_lists_pending_in_order_and_next_steps():
    text = render_status(
        "c1",
        "src/c1:migrations",
        "c1.ini",
        "postgresql://u:***@h:1/d",
        LINE,
        classify(LINE, ("a",)),
    )
    assert "Current revision: a: Do a" in text
    assert "Head revision: c: Do c" in text
    assert "State: ⚠️ Behind (2 pending)" in text
    assert "Pending migrations:\n  - b: Do b\n  - c: Do c\n" in text
    assert "- Apply the pending migrations: pants db-migrate src/c1:migrations" in text


def test_render_diverged_and_not_running():
    text = render_status("c1", "sel", "c1.ini", "db", FORKED, classify(FORKED, ("b",)))
    assert "Head revisions (2, diverged):\n  - x: Do x (v/x.py)\n  - y: Do y (v/y.py)" in text
    assert "pants db-rebase sel" in text
    down = ComponentStatus(
        NOT_RUNNING, (), LINE.heads, why="the development PostgreSQL on h:1 is not running"
    )
    text = render_status("c1", "sel", "c1.ini", "db", LINE, down)
    assert "Current revision: unknown (database not running)" in text
    assert "State: ⚠️ Not running: the development PostgreSQL on h:1 is not running" in text
    assert "pants db-dev-server --action=start" in text


def test_history_is_base_to_head_with_marks():
    text = render_history(MERGED, ("x",))
    assert text.splitlines() == [
        "History (4 revisions, base → head):",
        "  - a: Do a",
        "  - y: Do y",
        "  - x: Do x (current)",
        "  - m: Do m (merges x, y; head)",
    ]  # the reverse of `alembic history` (which breaks the x/y tie by load order)


def test_short_state():
    assert short_state(classify(LINE, ("a",))) == "behind (2 pending)"
    assert short_state(classify(LINE, ("c",))) == "up-to-date"


def test_a_changed_state_says_whether_the_edit_is_released_or_your_own():
    from db_migrate.core.status_report import next_steps, state_line

    mine = ComponentStatus(CHANGED, ("c",), ("c",), changed=("c",), rerun="DOWN, then UP")
    assert state_line(mine) == "⚠️ Changed since applied (1 unreleased revision: work in progress)"
    assert next_steps("s", mine) == ("Run the edit of your own unreleased revision: DOWN, then UP",)
    shipped = ComponentStatus(
        CHANGED, ("c",), ("c",), changed=("a", "b"), released=("a", "b"), why="v/a.py v/b.py"
    )
    assert state_line(shipped) == "⚠️ Changed since applied (2 released revisions)"
    steps = next_steps("s", shipped)
    assert "git log -p -- v/a.py v/b.py" in steps[1]
    assert "--accept-changed --reason=" in steps[2] and "--allow-changed s" in steps[3]
    both = ComponentStatus(
        CHANGED, ("b",), ("c",), (rev("c", "b"),), changed=("a", "b"), released=("a",), rerun="R"
    )
    assert state_line(both) == (
        "⚠️ Changed since applied (2 revisions: 1 released, 1 unreleased, 1 pending)"
    )
    assert len(next_steps("s", both)) == 5


def test_unrecorded_revisions_are_counted_and_only_a_few_named():
    few = unrecorded_line(["a1", "b2"])
    assert few.startswith("Unrecorded: 2 applied revisions have no checksum yet")
    assert few.endswith(": a1, b2")
    adopted = [f"{i:012x}" for i in range(484)]  # a database plain Alembic migrated for years
    line = unrecorded_line(adopted)
    assert line.startswith("Unrecorded: 484 applied revisions")
    assert sum(rev in line for rev in adopted) == 10
    assert line.endswith(", and 474 more (--output=json lists them all)")
    assert unrecorded_line(["c3"]).startswith("Unrecorded: 1 applied revision has no checksum")


def test_facts_cross_from_the_runner_as_json_unchanged():
    facts = DatabaseFacts(
        READ, "postgresql://u:***@h/db", ("b",), changed=("a",), ledger_lines=("", "x")
    )
    assert DatabaseFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


def test_a_server_that_is_down_or_lacks_the_database_is_a_state_not_an_error():
    down = status_of(LINE, DatabaseFacts(NOT_RUNNING, "db", why="it is down"))
    assert (down.state, down.heads, down.why) == (NOT_RUNNING, ("c",), "it is down")
    fresh = status_of(LINE, DatabaseFacts(NOT_CREATED, "db"))
    assert (fresh.state, ids(fresh)) == (NO_REVISION, ["a", "b", "c"])
    assert status_of(FORKED, DatabaseFacts(NOT_CREATED, "db")).state == DIVERGED


def test_edited_applied_files_change_only_an_up_to_date_or_behind_state():
    edited = {"changed": ("a",), "released": ("a",), "released_paths": "v/a.py", "rerun": ""}
    for current in (("c",), ("b",)):
        status = status_of(LINE, DatabaseFacts(READ, "db", current, **edited))
        assert (status.state, status.changed, status.why) == (CHANGED, ("a",), "v/a.py")
    ahead = status_of(LINE, DatabaseFacts(READ, "db", ("zzz",), **edited))
    assert (ahead.state, ahead.changed) == (AHEAD, ())
    diverged = status_of(FORKED, DatabaseFacts(READ, "db", ("b",), **edited))
    assert (diverged.state, diverged.changed) == (DIVERGED, ())


def test_the_text_is_history_status_release_then_ledger_and_the_outcome_matches():
    facts = DatabaseFacts(READ, "db", ("a",), ledger_lines=("LEDGER",), unrecorded=("a",))
    status = status_of(LINE, facts)
    text = status_text(
        "c1", "sel", "alembic.ini", LINE, facts, status, show_history=True, release="24.09"
    )
    lines = text.splitlines()
    assert lines[0].startswith("History (3 revisions") and "Database: db" in lines
    assert lines[-2:] == ["Release: the database matches release 24.09", "LEDGER"]
    assert text.index("History") < text.index("State: ") < text.index("Release:")
    plain = status_text(
        "c1", "sel", "alembic.ini", LINE, facts, status, show_history=False, release=None
    )
    assert not plain.startswith("History") and "Release:" not in plain
    fields = outcome_fields(facts, status, "24.09")
    assert fields["status"] == fields["state"] == BEHIND
    assert (fields["before"], fields["after"], fields["pending"]) == (["a"], ["a"], ["b", "c"])
    assert (fields["release"], fields["unrecorded_revisions"]) == ("24.09", ["a"])


def test_the_runner_of_db_status_imports_no_alembic():
    """What `run` imports when it reads a database (its Alembic import and map cost more than the
    rest of its run at 5,000 revisions: the goal classifies in pantsd instead)."""
    modules = [
        "commands.status",
        "postgres.connection",
        "postgres.database",
        "postgres.dev_server",
        "tamper.ledger",
        "tamper.released",
    ]
    code = (
        "import importlib, sys\n"
        "importlib.import_module('db_migrate.core.applied')\n"
        "importlib.import_module('db_migrate.core.database_url')\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('db_migrate.runner.' + name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_accepted_edits_are_listed_with_history_and_counted_without():
    edit = {
        "revision": "b",
        "path": "v/b.py",
        "old_checksum": "a" * 64,
        "new_checksum": "b" * 64,
        "released": "in release 1.0",
        "os_user": "alice",
        "git_commit": "0123",
        "in_commit": True,
        "reason": "reformat",
        "accepted_at": "2026-12-03 10:00:00 UTC",
        "line": "b (v/b.py): sha256 aaaa… → bbbb…, accepted on ... by alice: reformat",
    }
    # What the goal reads is what the runner wrote: through JSON.
    facts = DatabaseFacts.from_dict(
        json.loads(json.dumps(DatabaseFacts(READ, "db", ("c",), accepted_edits=(edit,)).to_dict()))
    )
    status = status_of(LINE, facts)
    assert status.state == UP_TO_DATE  # an accepted edit is no change
    args = ("c1", "sel", "c1.ini", LINE, facts, status)
    with_history = status_text(*args, show_history=True, release=None)
    assert (
        "Accepted edits (1, oldest first; the ledger expects the accepted files):" in with_history
    )
    assert f"  - {edit['line']}" in with_history
    without = status_text(*args, show_history=False, release=None)
    assert edit["line"] not in without
    assert without.endswith(
        "Accepted edits: 1 edit of released revisions recorded as reviewed (--history lists them)"
    )
    (reported,) = outcome_fields(facts, status, None)["accepted_edits"]
    assert reported == {k: v for k, v in edit.items() if k != "line"}
    plain = status_text(
        "c1",
        "sel",
        "c1.ini",
        LINE,
        DatabaseFacts(READ, "db", ("c",)),
        status,
        show_history=True,
        release=None,
    )
    assert "Accepted edits" not in plain

from __future__ import annotations

import json

from db_migrate.core.revision_file import Revision
from db_migrate.lint.migration_safety.report import ComponentSafety, select_revisions


def rev(revision: str, *down: str) -> Revision:
    return Revision(revision, tuple(down), path=f"v/{revision}.py")


# a - b - c - m (merge of c and d) - e
#      \- d -/
HISTORY = (rev("a"), rev("b", "a"), rev("c", "b"), rev("d", "b"), rev("m", "c", "d"), rev("e", "m"))


def ids(selection) -> list:
    return [r.revision for r in selection.revisions]


def test_revisions_in_no_release_yet():
    assert ids(select_revisions(HISTORY, (), False)) == ["a", "b", "c", "d", "m", "e"]
    first = select_revisions(HISTORY, (("24.03", "b"),), False)
    assert ids(first) == ["c", "d", "m", "e"] and first.released == 2
    # The merge's release contains both branches; the newest pin decides the message.
    merged = select_revisions(HISTORY, (("24.03", "b"), ("24.09", "m")), False)
    assert ids(merged) == ["e"] and merged.released == 5
    assert merged.newest_release == "24.09 = m"
    # A release of one branch only: the other branch is still unreleased.
    assert ids(select_revisions(HISTORY, (("x", "c"),), False)) == ["d", "m", "e"]
    assert ids(select_revisions(HISTORY, (("24.09", "m"),), True)) == ids(
        select_revisions(HISTORY, (), False)
    )


def result(revision: str, *findings, ignored=(), problems=()) -> str:
    return json.dumps(
        {
            "revision": revision,
            "path": f"v/{revision}.py",
            "findings": list(findings),
            "ignored": list(ignored),
            "problems": list(problems),
        }
    )


def finding(rule: str, level: str, line=12, direction="upgrade") -> dict:
    return {
        "rule": rule,
        "level": level,
        "line": line,
        "direction": direction,
        "message": f"why {rule} matters",
        "fix": f"how to fix {rule}",
        "sql": "CREATE INDEX ix ON t (a);",
        "source": "squawk",
        "sql_line": 2,
    }


def test_errors_fail_and_render_in_full_warnings_do_not():
    selection = select_revisions(HISTORY, (("24.09", "m"),), False)
    safety = ComponentSafety(
        "manager",
        "src/m:migrations",
        selection,
        (
            result(
                "e",
                finding("require-concurrent-index-creation", "error"),
                finding("downgrade-drops-data", "warning", 30, "downgrade"),
                ignored=[
                    {
                        "rule": "ban-drop-column",
                        "reason": "unused since 24.03",
                        "line": 3,
                        "silenced": 1,
                    }
                ],
            ),
        ),
    )
    assert safety.failed
    text = safety.render()
    assert (
        "❌ require-concurrent-index-creation: v/e.py:12 (e upgrade)\n"
        "   why require-concurrent-index-creation matters\n"
        "   SQL: CREATE INDEX ix ON t (a);\n"
        "   Fix: how to fix require-concurrent-index-creation"
    ) in text
    assert (
        "⚠️ downgrade-drops-data: v/e.py:30 (e downgrade): why downgrade-drops-data matters" in text
    )
    assert "ignored ban-drop-column (1 finding(s)) in v/e.py:3: unused since 24.03" in text
    assert text.endswith(
        "manager: 1 revision checked, 1 error, 1 warning, 1 ignored, 5 released skipped"
        " (newest release 24.09 = m; --migration-safety-all checks them)"
    )
    report = safety.report()
    assert report["ok"] is False and report["checked"] == ["e"]
    assert [f["rule"] for f in report["findings"]] == [
        "require-concurrent-index-creation",
        "downgrade-drops-data",
    ]
    assert report["findings"][0]["path"] == "v/e.py" and report["ignored"][0]["revision"] == "e"
    warnings_only = ComponentSafety(
        "manager", "s", selection, (result("e", finding("downgrade-drops-data", "warning")),)
    )
    assert not warnings_only.failed


def test_a_problem_fails_the_component():
    problem = {
        "title": "Unknown migration-safety rule 'nope'",
        "details": ["v/e.py:3: ..."],
        "actions": [],
        "kind": "k",
    }
    safety = ComponentSafety(
        "manager", "s", select_revisions(HISTORY, (), False), (result("e", problems=[problem]),)
    )
    assert safety.failed
    assert (
        "❌ Error: Unknown migration-safety rule 'nope'\n\nDetails: v/e.py:3: ..." in safety.render()
    )
    assert safety.report()["problems"][0]["title"] == "Unknown migration-safety rule 'nope'"

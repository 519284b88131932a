from __future__ import annotations

import json

from db_migrate.core.contract import RunnerPlan
from db_migrate.core.revision_file import Revision


def _facts(checksum: str = "abc") -> tuple:
    return tuple(
        Revision(
            revision=f"r{i}",
            down_revisions=(f"r{i - 1}",) if i else (),
            message=f"Step {i}",
            path=f"versions/r{i}.py",
            checksum=checksum,
            branch_labels=("core",) if i == 0 else (),
            depends_on=("r0",) if i == 2 else (),
        )
        for i in range(4)
    )


def _plan(facts: tuple, **options) -> RunnerPlan:
    return RunnerPlan(
        command="status",
        component="manager",
        selector="src/manager:migrations",
        config="alembic.ini",
        url_env="MANAGER_DB_URL",
        buildroot="/repo",
        revisions=facts,
        heads=("r3",),
        options={"history": False, **options},
    )


def test_a_plan_reads_back_as_written() -> None:
    plan = _plan(_facts())
    text = plan.to_json()
    assert RunnerPlan.from_json(text) == plan
    assert set(json.loads(text)) == {
        "buildroot", "command", "component", "config", "heads", "options", "revisions",
        "selector", "url_env",
    }  # fmt: skip


def test_the_facts_written_are_always_those_of_the_plan() -> None:
    facts = _facts()
    first = _plan(facts).to_json()
    assert _plan(facts, history=True).to_json() != first  # the rest is written each time
    assert RunnerPlan.from_json(_plan(facts, history=True).to_json()).option("history") is True
    edited = _facts(checksum="def")  # a new tuple (an edit): new text, never the kept one
    assert RunnerPlan.from_json(_plan(edited).to_json()).revisions[0].checksum == "def"
    assert RunnerPlan.from_json(_plan(facts).to_json()).revisions[0].checksum == "abc"
    for i in range(20):  # more tuples than are kept
        assert (
            RunnerPlan.from_json(_plan(_facts(f"s{i}")).to_json()).revisions[1].checksum == f"s{i}"
        )
    assert RunnerPlan.from_json(_plan(facts).to_json()).revisions == facts


def test_an_edit_writes_the_edited_fact_and_reuses_the_others() -> None:
    facts = _facts()
    _plan(facts).to_json()
    edited = (
        facts[:2]
        + (Revision("r2", ("r1",), message="Edited", path="versions/r2.py", checksum="new"),)
        + facts[3:]
    )
    read = RunnerPlan.from_json(_plan(edited).to_json()).revisions
    assert read == edited and read[2].message == "Edited"

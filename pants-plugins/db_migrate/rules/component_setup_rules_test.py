"""The static pre-flight (`component_setup`) in an engine, on small repos written by each test.

What every goal and the alembic-history lint decide from before touching a database: where the
ini's `script_location` is, whether env.py and revision files are there, what is wrong with the
history (the specification's blocks), the heads, the release pins, and that an edit re-reads
only the edited file.
"""

from __future__ import annotations

import json
from typing import Dict, List

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner

from db_migrate.rules import component_setup
from db_migrate.rules.component_setup import ComponentSetup, RevisionFileMemo
from db_migrate.target_types import AlembicMigrationsFieldSet
from db_migrate.testsupport.component_repo import (
    URL,
    Rev,
    chain,
    component_dir,
    component_files,
    field_set,
    ini_text,
    new_rule_runner,
    revision_source,
)

VERSIONS = f"{component_dir('billing')}/versions"


@pytest.fixture
def rule_runner() -> RuleRunner:
    return new_rule_runner(
        component_setup.rules(), QueryRule(ComponentSetup, [AlembicMigrationsFieldSet])
    )


def _setup(runner: RuleRunner, files: Dict[str, str], directory: str = "") -> ComponentSetup:
    runner.write_files(files)
    return runner.request(ComponentSetup, [field_set(runner, "billing", directory)])


def _kinds(setup: ComponentSetup) -> List[str]:
    return [p.kind for p in setup.problems]


def test_a_here_location_is_the_ini_folder(rule_runner: RuleRunner) -> None:
    """`%(here)s/migrations` in services/billing/alembic.ini: the target's own folder; the
    revisions are read in Alembic's load order and the history has one head."""
    setup = _setup(rule_runner, component_files("billing"))
    assert setup.problems == ()
    assert setup.script_dir == "services/billing/migrations"
    assert setup.ini is not None and setup.ini.url == URL
    assert [r.revision for r in setup.revisions] == ["a1", "b2", "c3"]
    assert setup.files == tuple(f"{VERSIONS}/{r}_step.py" for r in ("a1", "b2", "c3"))
    assert setup.heads == ("c3",)
    assert {r.revision for r in setup.revisions if r.checksum} == {"a1", "b2", "c3"}


def test_a_plain_path_is_relative_to_the_build_root(rule_runner: RuleRunner) -> None:
    files = component_files(
        "billing", ini="alembic-billing.ini", script_location="services/billing/migrations"
    )
    setup = _setup(rule_runner, files)
    assert (setup.problems, setup.script_dir) == ((), "services/billing/migrations")


def test_a_package_resource_is_found_through_the_source_roots(rule_runner: RuleRunner) -> None:
    """`billing.db:migrations` is looked up the way Alembic imports it: in each source root (`/`
    and `/src` here), without importing anything."""
    directory = "src/billing/db/migrations"
    files = component_files(
        "billing",
        directory=directory,
        ini="alembic-billing.ini",
        script_location="billing.db:migrations",
    )
    setup = _setup(rule_runner, files, directory)
    assert (setup.problems, setup.script_dir) == ((), directory)


def test_a_missing_package_names_the_folders_looked_in(rule_runner: RuleRunner) -> None:
    """One folder per source root that exists (`/` exists here because `tools/` is under it)."""
    directory = "src/billing/db/migrations"
    files = component_files(
        "billing",
        directory=directory,
        ini="alembic-billing.ini",
        script_location="billing.dbx:migrations",
    )
    setup = _setup(rule_runner, {**files, "tools/README.md": "tools"}, directory)
    assert _kinds(setup) == ["config"]
    problem = setup.problems[0]
    assert problem.title == "Alembic config names a missing package"
    assert "package `billing.dbx`" in problem.details[0]
    looked_in = problem.details[1].split("Looked in: ", 1)[1].split(", ")
    assert sorted(looked_in) == ["billing/dbx/migrations", "src/billing/dbx/migrations"]


@pytest.mark.parametrize(
    "ini, title, detail",
    [
        (
            ini_text("%(here)s/elsewhere"),
            "Alembic config points elsewhere",
            "services/billing/alembic.ini says script_location = %(here)s/elsewhere (that is"
            " services/billing/elsewhere), but billing's alembic_migrations target is in"
            " services/billing/migrations",
        ),
        (None, "Alembic config not found", "billing names `services/billing/alembic.ini`"),
        (
            "[loggers]\nkeys = root\n",
            "Invalid Alembic config",
            "services/billing/alembic.ini has no [alembic] section",
        ),
    ],
    ids=["points-elsewhere", "not-found", "no-alembic-section"],
)
def test_an_ini_that_does_not_lead_to_the_target_is_a_config_problem(
    rule_runner: RuleRunner, ini, title: str, detail: str
) -> None:
    files = component_files("billing")
    if ini is None:
        del files["services/billing/alembic.ini"]
    else:
        files["services/billing/alembic.ini"] = ini
    setup = _setup(rule_runner, files)
    assert _kinds(setup) == ["config"]
    assert setup.problems[0].title == title
    assert detail in setup.problems[0].details[0]


def test_missing_env_py_and_no_revision_files(rule_runner: RuleRunner) -> None:
    setup = _setup(rule_runner, component_files("billing", revisions=(), env_py=False))
    assert [p.title for p in setup.problems] == [
        "Alembic environment not found",
        "No revision files",
    ]
    assert setup.problems[0].details[0].startswith("services/billing/migrations/env.py does not")
    assert f"(expected in {VERSIONS}/)" in setup.problems[1].details[0]
    assert (setup.revisions, setup.heads) == ((), ())


def test_an_unparsable_file_is_named_with_its_line(rule_runner: RuleRunner) -> None:
    """The other files are still read; with a file unread, no head is claimed."""
    broken = f"{VERSIONS}/d4_broken.py"
    files = {**component_files("billing"), broken: 'revision = "d4"\ndown_revision = ("c3"\n'}
    setup = _setup(rule_runner, files)
    assert _kinds(setup) == ["unparsable_revision"]
    assert setup.problems[0].details[0].startswith(f"{broken}:2: ")
    assert [r.revision for r in setup.revisions] == ["a1", "b2", "c3"]
    assert broken in setup.files and setup.heads == ()


def test_a_duplicate_id_is_the_specifications_block(rule_runner: RuleRunner) -> None:
    copy = f"{VERSIONS}/c3_copy.py"
    files = {**component_files("billing"), copy: revision_source(Rev("c3", "b2"))}
    setup = _setup(rule_runner, files)
    assert _kinds(setup) == ["duplicate_revision"]
    rendered = setup.problems[0].render()
    assert rendered.startswith("❌ Error: Duplicate revision id 'c3'\n\nDetails: 2 files of billing")
    assert f"  - {VERSIONS}/c3_copy.py\n  - {VERSIONS}/c3_step.py" in rendered
    assert "\nRecommended actions:\n1. " in rendered
    assert setup.heads == ()


def test_a_dangling_down_revision_is_migration_file_missing(rule_runner: RuleRunner) -> None:
    revisions = (Rev("a1"), Rev("b2", "a1"), Rev("c3", "zz9"))
    setup = _setup(rule_runner, component_files("billing", revisions))
    assert _kinds(setup) == ["migration_file_missing"]
    assert setup.problems[0].title == "Migration file not found"
    assert setup.problems[0].details == (
        "Revision 'zz9' of billing is referenced but no file defines it",
        f"  referenced by {VERSIONS}/c3_step.py",
    )


def test_a_cycle_is_revision_cycle(rule_runner: RuleRunner) -> None:
    revisions = (Rev("a1"), Rev("b2", ("a1", "d4")), Rev("c3", "b2"), Rev("d4", "c3"))
    setup = _setup(rule_runner, component_files("billing", revisions))
    assert _kinds(setup) == ["revision_cycle"]
    assert setup.problems[0].title == "Revision cycle detected"
    loop = setup.problems[0].details[0]
    assert loop.startswith("billing's history loops: ")
    assert {"b2", "c3", "d4"} <= set(loop.split(": ", 1)[1].split(" → "))


def test_several_heads_are_a_state_not_a_problem(rule_runner: RuleRunner) -> None:
    """Diverged heads are for each goal to judge (db-status shows them, db-migrate refuses)."""
    revisions = (Rev("a1"), Rev("b2", "a1", message="Left"), Rev("c3", "a1", message="Right"))
    setup = _setup(rule_runner, component_files("billing", revisions))
    assert setup.problems == ()
    assert setup.heads == ("b2", "c3")
    assert [(h.revision, h.message) for h in setup.head_infos()] == [
        ("b2", "Left"),
        ("c3", "Right"),
    ]


PINNED = chain("a1", "b21", "b22", "c3")


def _pinned(pins: Dict[str, str], where: str = "releases.txt") -> Dict[str, str]:
    files = component_files("billing", PINNED, fields=f'release_pins="{where}"')
    return {**files, **{f"{component_dir('billing')}/{path}": text for path, text in pins.items()}}


def test_release_pins_in_a_file_resolve_prefixes_to_full_ids(rule_runner: RuleRunner) -> None:
    pins = {"releases.txt": "# release = revision\n1.0 = a1\n1.1 = b21\n2.0 = c\n"}
    setup = _setup(rule_runner, _pinned(pins))
    assert setup.problems == ()
    assert setup.release_pins == (("1.0", "a1"), ("1.1", "b21"), ("2.0", "c3"))


def _history_json(*entries) -> str:
    return json.dumps({"revisions": [{"revision": r, "is_head": head} for r, head in entries]})


def test_a_revision_history_folder_pins_each_files_head(rule_runner: RuleRunner) -> None:
    """Backend.AI's form: one `<release>.json` per release, in version order (1.9 before 1.10)."""
    pins = {
        "revision_history/1.10.json": _history_json(("a1", False), ("c3", True)),
        "revision_history/1.9.json": _history_json(("a1", False), ("b22", True)),
        "revision_history/1.0.json": _history_json(("a1", True)),
    }
    setup = _setup(rule_runner, _pinned(pins, "revision_history"))
    assert setup.problems == ()
    assert setup.release_pins == (("1.0", "a1"), ("1.9", "b22"), ("1.10", "c3"))


@pytest.mark.parametrize(
    "pins, where, detail",
    [
        (
            {"releases.txt": "1.0 = a1\n1.1 = zz\n"},
            "releases.txt",
            "releases.txt: release 1.1 pins zz, which matches no revision of billing",
        ),
        (
            {"releases.txt": "1.1 = b2\n"},
            "releases.txt",
            "releases.txt: release 1.1 pins b2, which matches several revisions (b21, b22)",
        ),
        (
            {"revision_history/1.0.json": _history_json(("a1", True), ("b21", True))},
            "revision_history",
            "revision_history/1.0.json",
        ),
        ({}, "releases.txt", "billing names services/billing/migrations/releases.txt as its"),
    ],
    ids=["unknown", "ambiguous", "two-heads-in-a-json", "missing"],
)
def test_bad_release_pins_name_the_file(
    rule_runner: RuleRunner, pins: Dict[str, str], where: str, detail: str
) -> None:
    setup = _setup(rule_runner, _pinned(pins, where))
    assert _kinds(setup) == ["release_pins"]
    assert detail in setup.problems[0].details[0]
    assert setup.release_pins == ()


class RecordingMemo(RevisionFileMemo):
    """The parse memo, saying which files it had to read."""

    def __init__(self) -> None:
        super().__init__()
        self.parsed: List[str] = []

    def parse(self, path: str, fingerprint: str, content: bytes):
        self.parsed.append(path)
        return super().parse(path, fingerprint, content)


def test_after_an_edit_only_the_edited_file_is_parsed(
    rule_runner: RuleRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = RecordingMemo()
    monkeypatch.setattr(component_setup, "REVISION_FILES", memo)
    first = _setup(rule_runner, component_files("billing", chain("a1", "b2", "c3", "d4")))
    assert sorted(memo.parsed) == [f"{VERSIONS}/{r}_step.py" for r in ("a1", "b2", "c3", "d4")]

    memo.parsed.clear()
    edited = {f"{VERSIONS}/b2_step.py": revision_source(Rev("b2", "a1", message="Edited"))}
    second = _setup(rule_runner, edited)
    assert memo.parsed == [f"{VERSIONS}/b2_step.py"]
    assert [r.message for r in second.revisions] == ["Step a1", "Edited", "Step c3", "Step d4"]

    def checksums(setup):
        return {r.revision: r.checksum for r in setup.revisions}

    assert checksums(second)["b2"] != checksums(first)["b2"]
    assert checksums(second)["c3"] == checksums(first)["c3"]

"""The pure parts of `--component=NAME`: reading the option and the problems it reports."""

from __future__ import annotations

from db_migrate.rules.component_names import parse_names, specs_and_component, unknown_component


def test_repeated_and_comma_separated_names() -> None:
    assert parse_names(["manager", "appproxy, accountmgr", "manager", " ,"]) == (
        "manager",
        "appproxy",
        "accountmgr",
    )
    assert parse_names([]) == ()


def test_unknown_names_without_a_close_one_get_no_guess() -> None:
    problem = unknown_component("db-migrate", ["web", "xyzzy"], ["accountmgr", "manager"])
    assert problem.title == "Unknown components 'web', 'xyzzy'"
    assert problem.details == ("Known components: accountmgr, manager",)
    assert not any("--component=" in action for action in problem.actions)


def test_specs_and_names_together_say_use_one() -> None:
    problem = specs_and_component("db-verify", ("manager", "appproxy"))
    assert problem.kind == "specs_and_component"
    assert "--component=manager,appproxy" in problem.details[0]
    assert problem.actions[0] == "By name: pants db-verify --component=manager,appproxy"

"""`select_components` in an engine: which `alembic_migrations` targets a command line selects.

A small repo of four components (two of them with a `migration_order`) and a folder holding only a
`file` target; each test hands the rule `Specs` as the command line or `--changed-since` makes them.
"""

from __future__ import annotations

from typing import Tuple

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.base.specs import AddressLiteralSpec, RawSpecs, Specs
from pants.base.specs_parser import SpecsParser
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner

from db_migrate.rules import selection
from db_migrate.rules.selection import ComponentSelection, ComponentSelectionRequest
from db_migrate.testsupport.component_repo import component_files, new_rule_runner


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = new_rule_runner(
        selection.rules(), QueryRule(ComponentSelection, [ComponentSelectionRequest])
    )
    runner.write_files(
        {
            **component_files("zeta"),
            **component_files("billing"),
            **component_files("audit", fields="migration_order=5"),
            **component_files("ledger", fields="migration_order=-1"),
            "docs/BUILD": 'file(name="guide", source="guide.md")\n',
            "docs/guide.md": "# Guide\n",
        }
    )
    return runner


def _select(runner: RuleRunner, *args: str) -> ComponentSelection:
    specs = SpecsParser(root_dir=runner.build_root).parse_specs(
        args, description_of_origin="the test's arguments"
    )
    return runner.request(ComponentSelection, [ComponentSelectionRequest(specs, "db-migrate")])


def _components(selected: ComponentSelection) -> Tuple[str, ...]:
    return tuple(fs.component_name for fs in selected.field_sets)


def test_every_component_in_run_order(rule_runner: RuleRunner) -> None:
    """`::` selects every component once: ascending `migration_order`, then component name."""
    selected = _select(rule_runner, "::")
    assert selected.problem is None
    assert _components(selected) == ("ledger", "billing", "zeta", "audit")
    # A component named twice (and through its file) is still selected once.
    twice = _select(
        rule_runner, "services/zeta::", "services/billing::", "services/zeta/migrations:migrations"
    )
    assert _components(twice) == ("billing", "zeta")


def test_a_typo_is_no_component_with_the_closest_directories(rule_runner: RuleRunner) -> None:
    """A directory that does not exist is the `no_component` problem, and the component the user
    meant is suggested as a spec to copy."""
    selected = _select(rule_runner, "services/bilin::")
    assert selected.field_sets == ()
    problem = selected.problem
    assert problem is not None and problem.kind == "no_component"
    assert problem.title == "No migration target for `services/bilin::`"
    assert "Did you mean `services/billing::`?" in problem.details
    assert problem.actions[0] == "pants db-migrate services/billing::"
    assert "❌ Error: No migration target for `services/bilin::`" in problem.render()


def test_a_spec_of_other_targets_says_which(rule_runner: RuleRunner) -> None:
    """A spec that selects targets, none of them a component, names their kinds; the specs that
    do select components are not reported, but nothing is selected (one bad spec stops the run)."""
    selected = _select(rule_runner, "services/billing::", "docs::")
    assert selected.field_sets == ()
    assert selected.problem is not None and selected.problem.kind == "no_component"
    assert selected.problem.title == "No migration target for `docs::`"
    assert selected.problem.details[0] == "`docs::`: it matches only file targets"


def test_no_spec_is_the_no_specs_problem(rule_runner: RuleRunner) -> None:
    selected = _select(rule_runner)
    assert selected.field_sets == ()
    assert selected.problem is not None and selected.problem.kind == "no_specs"
    assert "pants db-migrate ::" in "\n".join(selected.problem.actions)


def _changed(*addresses: AddressLiteralSpec) -> Specs:
    """Specs as `--changed-since` makes them (`pants.init.specs_calculator`)."""
    return Specs(
        includes=RawSpecs(
            address_literals=addresses,
            from_change_detection=True,
            description_of_origin="`--changed-since`",
        ),
        ignores=RawSpecs(description_of_origin="`--changed-since`"),
    )


def test_an_empty_change_detection_selection_is_quiet(rule_runner: RuleRunner) -> None:
    """Nothing relevant changed: no component and no problem (the goals exit 0 and say nothing),
    where the same empty selection from the command line is `no_specs`."""
    quiet = rule_runner.request(
        ComponentSelection, [ComponentSelectionRequest(_changed(), "db-migrate")]
    )
    assert quiet == ComponentSelection(())
    # A changed file that belongs to no component is quiet too.
    docs = AddressLiteralSpec("docs", "guide")
    assert rule_runner.request(
        ComponentSelection, [ComponentSelectionRequest(_changed(docs), "db-migrate")]
    ) == ComponentSelection(())
    changed = _changed(AddressLiteralSpec("services/zeta/migrations", "migrations"), docs)
    selected = rule_runner.request(
        ComponentSelection, [ComponentSelectionRequest(changed, "db-migrate")]
    )
    assert (_components(selected), selected.problem) == (("zeta",), None)


def _by_name(runner: RuleRunner, *names: str, specs: Specs | None = None) -> ComponentSelection:
    specs = specs or Specs(
        includes=RawSpecs(description_of_origin="the test"),
        ignores=RawSpecs(description_of_origin="the test"),
    )
    return runner.request(
        ComponentSelection, [ComponentSelectionRequest(specs, "db-status", names)]
    )


def test_component_names_select_their_targets_in_run_order(rule_runner: RuleRunner) -> None:
    """`--component=NAME` selects by the `component` field, wherever the target is, in run order
    whatever order the names were given in."""
    selected = _by_name(rule_runner, "zeta", "ledger")
    assert (_components(selected), selected.problem) == (("ledger", "zeta"), None)


def test_an_unknown_name_lists_the_known_ones_and_the_closest(rule_runner: RuleRunner) -> None:
    selected = _by_name(rule_runner, "biling", "zeta")
    assert selected.field_sets == ()
    problem = selected.problem
    assert problem is not None and problem.kind == "unknown_component"
    assert problem.title == "Unknown component 'biling'"
    assert problem.details == (
        "Known components: audit, billing, ledger, zeta",
        "Did you mean `billing`?",
    )
    assert problem.actions[0] == "pants db-status --component=billing"


def test_names_narrow_a_changed_only_selection(rule_runner: RuleRunner) -> None:
    """With `--changed-since`, only the named components among the changed ones: none changed is
    quiet, an unknown name is still refused."""
    zeta = AddressLiteralSpec("services/zeta/migrations", "migrations")
    billing = AddressLiteralSpec("services/billing/migrations", "migrations")
    both = _changed(zeta, billing)
    assert _components(_by_name(rule_runner, "zeta", specs=both)) == ("zeta",)
    assert _by_name(rule_runner, "audit", specs=both) == ComponentSelection(())
    assert _by_name(rule_runner, "nope", specs=both).problem is not None

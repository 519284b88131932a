"""Which components pantsd reads itself (`in_pantsd.reaches`), decided in an engine: from the
client's environment as Pants hands it over (never pantsd's own), the `[db-migrations]` options
and each component's static pre-flight. No Pants subprocess, no database: only the decision of
where a read would go is looked at (`in_pantsd_test.py` has the URL's reading in detail)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.base.build_root import BuildRoot
from pants.engine.internals.platform_rules import environment_vars_subset
from pants.engine.rules import Get, MultiGet, QueryRule, rule
from pants.testutil.rule_runner import RuleRunner
from psycopg.conninfo import conninfo_to_dict

from db_migrate.goals.in_pantsd import Reach, reaches
from db_migrate.rules import component_setup
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet
from db_migrate.testsupport.component_repo import (
    HOST,
    component_files,
    field_set,
    ini_text,
    new_rule_runner,
    options,
)

HOME = os.environ.get("HOME", "/root")
OTHER_URL = "postgresql+psycopg://ops:0ther-pw@elsewhere.example:7654/ops_db"


@dataclass(frozen=True)
class Components:
    field_sets: Tuple[AlembicMigrationsFieldSet, ...]


@dataclass(frozen=True)
class Reaches:
    each: Tuple[Optional[Reach], ...]


@rule
async def reaches_of(
    request: Components, settings: DbMigrationsSubsystem, build_root: BuildRoot
) -> Reaches:
    """What `db-status` decides for these components before it reads any of them."""
    setups = await MultiGet(
        Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in request.field_sets
    )
    return Reaches(tuple(await reaches(setups, settings, build_root)))


@pytest.fixture
def rule_runner(monkeypatch) -> RuleRunner:
    for name in [k for k in os.environ if k.startswith("PG")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", HOME)  # pantsd's own home: the client's is compared with it
    runner = new_rule_runner(
        [
            *component_setup.rules(),
            *DbMigrationsSubsystem.rules(),
            environment_vars_subset,
            reaches_of,
        ],
        QueryRule(Reaches, [Components]),
    )
    runner.write_files({**component_files("billing"), **component_files("ledger")})
    return runner


def _reaches(runner: RuleRunner, env: Dict[str, str], *args: str, names=("billing", "ledger")):
    runner.set_options(options(*args), env={"HOME": HOME, **env})
    request = Components(tuple(field_set(runner, name) for name in names))
    return runner.request(Reaches, [request]).each


def _host(where: Optional[Reach]) -> str:
    assert where is not None
    return conninfo_to_dict(where.conninfo)["host"]


def test_each_component_is_reached_by_its_own_variable_from_the_clients_environment(
    rule_runner: RuleRunner,
) -> None:
    billing, ledger = _reaches(rule_runner, {"LEDGER_DB_URL": OTHER_URL})
    assert _host(billing) == HOST, "no BILLING_DB_URL: the ini's URL"
    assert _host(ledger) == "elsewhere.example"
    assert ledger is not None and ledger.masked == OTHER_URL.replace("0ther-pw", "***")
    assert (billing.component, ledger.component) == ("billing", "ledger")
    assert billing.dev_data_dir is None and ledger.dev_data_dir is None


def test_a_variable_only_pantsd_has_is_not_the_users(rule_runner: RuleRunner, monkeypatch) -> None:
    """pantsd's own environment may hold a stale URL: the one in the user's shell counts."""
    monkeypatch.setenv("LEDGER_DB_URL", OTHER_URL)
    _, ledger = _reaches(rule_runner, {})
    assert _host(ledger) == HOST


def test_off_or_another_home_leaves_every_component_to_the_runner(rule_runner: RuleRunner) -> None:
    off = _reaches(rule_runner, {}, "--db-migrations-read-in-pantsd=false")
    assert off == (None, None)
    assert _reaches(rule_runner, {"HOME": "/home/someone-else"}) == (None, None)


def test_a_component_with_a_problem_is_left_to_the_runner_and_the_others_are_read(
    rule_runner: RuleRunner,
) -> None:
    """The runner reports a broken component in its own words; pantsd does not guess past it."""
    (Path(rule_runner.build_root) / "services/ledger/migrations/env.py").unlink()
    billing, ledger = _reaches(rule_runner, {})
    assert ledger is None
    assert _host(billing) == HOST


def test_the_development_servers_url_is_checked_against_this_checkouts_data_folder(
    rule_runner: RuleRunner,
) -> None:
    dev_url = "postgresql+psycopg://postgres:devpw@127.0.0.1:8123/billing"
    rule_runner.write_files(
        {"services/billing/alembic.ini": ini_text("%(here)s/migrations", dev_url)}
    )
    args = ("--db-migrations-dev-server-port=8123", "--db-migrations-dev-server-dir=.pg-dev")
    billing, ledger = _reaches(rule_runner, {}, *args)
    assert billing is not None and ledger is not None
    assert billing.dev_data_dir == Path(rule_runner.build_root) / ".pg-dev" / "data"
    assert ledger.dev_data_dir is None, "another host: not the development server"
    elsewhere = _reaches(rule_runner, {}, "--db-migrations-dev-server-port=8124")[0]
    assert elsewhere is not None and elsewhere.dev_data_dir is None, "another port"

"""The plan a goal hands the runner, built from a small component through the plugin's own rules
(RuleRunner: no Pants subprocess, no database): its command, typed options, revisions with their
files' checksums, heads, and no database URL or secret anywhere in it."""

from __future__ import annotations

import hashlib
import json
import os

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.base.build_root import BuildRoot
from pants.engine.addresses import Address
from pants.testutil.option_util import create_subsystem
from pants.testutil.rule_runner import QueryRule, RuleRunner

from db_migrate.core.contract import (
    MigrateOptions,
    RunnerCommand,
    RunnerPlan,
    SharedSettings,
    SqlOptions,
    VerifyOptions,
)
from db_migrate.goals.component_run import interactive_plan
from db_migrate.goals.migrate import DbMigrateSubsystem, migrate_options, sql_options
from db_migrate.goals.verify import component_policy, process_request
from db_migrate.rules import component_setup
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.subsystem import DbMigrationsSubsystem
from db_migrate.target_types import AlembicMigrationsFieldSet, AlembicMigrationsTarget

SECRETS = ("s3cr3t-pw", "billing_app", "db.internal", "postgresql", "@")
INI = """\
[alembic]
script_location = %(here)s/services/billing/migrations
sqlalchemy.url = postgresql+psycopg://billing_app:s3cr3t-pw@db.internal:5433/ledger
version_table = billing_version
"""
DIR = "services/billing/migrations"
BUILD = """\
alembic_migrations(
    name="migrations",
    component="billing",
    alembic_config="billing.ini",
    release_pins="releases.txt",
    lock_timeout="5s",
    lock_retries=3,
    statement_timeout="1min",
    verify_skip=["bbbb"],
)
"""
# (file, revision, down_revision, message), deliberately not in file-name order by id.
REVISIONS = (
    ("a_create_accounts.py", "aaaa00000001", None, "Create accounts"),
    ("b_add_balance.py", "bbbb00000002", "aaaa00000001", "Add balance"),
    ("c_add_currency.py", "cccc00000003", "bbbb00000002", "Add currency"),
)


def _revision_file(revision: str, down, message: str) -> str:
    return f'"""{message}\n\nRevision ID: {revision}\n"""\nrevision = "{revision}"\ndown_revision = {down!r}\n'


FILES = {
    "billing.ini": INI,
    f"{DIR}/BUILD": BUILD,
    f"{DIR}/env.py": "# the component's env.py\n",
    f"{DIR}/releases.txt": "1.0 = aaaa\n1.1 = bbbb00000002\n",
    **{f"{DIR}/versions/{f}": _revision_file(r, d, m) for f, r, d, m in REVISIONS},
}


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = RuleRunner(
        rules=[
            *component_setup.rules(),
            QueryRule(ComponentSetup, [AlembicMigrationsFieldSet]),
        ],
        target_types=[AlembicMigrationsTarget],
    )
    runner.write_files(FILES)
    return runner


def _setup(rule_runner: RuleRunner) -> ComponentSetup:
    target = rule_runner.get_target(Address(DIR, target_name="migrations"))
    return rule_runner.request(ComponentSetup, [AlembicMigrationsFieldSet.create(target)])


def _settings() -> DbMigrationsSubsystem:
    return create_subsystem(
        DbMigrationsSubsystem,
        connect_timeout=3,
        network_timeout=17,
        dev_server_port=8111,
        dev_server_dir=".dev-postgres",
        backup_dir=".db-backups",
        default_specs=[],
        runner="pants-plugins/db_migrate/runner:runner",
    )


def _migrate_subsystem(**options) -> DbMigrateSubsystem:
    defaults = {
        "backup": True,
        "lock_timeout": 60,
        "lock_retries": None,
        "dry_run": False,
        "allow_changed": False,
        "allow_active_sessions": False,
        "base_ref": "main",
        "sql_file": None,
    }
    return create_subsystem(DbMigrateSubsystem, **{**defaults, **options})


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_a_downgrade_to_a_release_is_planned_with_typed_options_and_checksums(
    rule_runner: RuleRunner,
) -> None:
    setup = _setup(rule_runner)
    subsystem = _migrate_subsystem(
        backup=False, lock_timeout=7, lock_retries=1, dry_run=True, base_ref="origin/main"
    )
    options = migrate_options(subsystem, setup, "downgrade", "release:1.0")
    plan = interactive_plan(setup, options, _settings(), BuildRoot(), "json")

    assert plan.command is RunnerCommand.MIGRATE
    assert plan.options == MigrateOptions(
        direction="downgrade",
        target="aaaa00000001",  # the pin's prefix, resolved
        target_label="release:1.0",
        no_backup=True,
        lock_wait=7,
        dry_run=True,
        user_flags=(
            "--no-backup",
            "--lock-timeout=7",
            "--lock-retries=1",
            "--base-ref=origin/main",
        ),
        base_ref="origin/main",
        release_pins=(("1.0", "aaaa00000001"), ("1.1", "bbbb00000002")),
        lock_retries=1,
    )
    assert [(r.revision, r.down_revisions, r.message) for r in plan.revisions] == [
        (r, (d,) if d else (), m) for _, r, d, m in REVISIONS
    ]
    assert [(r.path, r.checksum) for r in plan.revisions] == [
        (f"{DIR}/versions/{f}", _sha256(FILES[f"{DIR}/versions/{f}"])) for f, *_ in REVISIONS
    ]
    assert plan.heads == ("cccc00000003",)
    assert (plan.component, plan.selector) == ("billing", f"{DIR}:migrations")
    assert (plan.config, plan.url_env, plan.buildroot) == (
        "billing.ini",
        "BILLING_DB_URL",
        rule_runner.build_root,
    )
    assert plan.shared == SharedSettings(
        output="json",
        connect_timeout=3,
        network_timeout=17.0,
        dev_server_port=8111,
        dev_server_dir=".dev-postgres",
        backup_dir=os.path.join(rule_runner.build_root, ".db-backups"),
        pg_lock_timeout="5s",
        pg_statement_timeout="1min",
        lock_retries=3,
        script_dir=DIR,
    )
    text = plan.to_json()
    _no_secret_in(text)
    assert RunnerPlan.from_json(text) == plan


def test_sql_resolves_each_end_of_its_range(rule_runner: RuleRunner) -> None:
    setup = _setup(rule_runner)
    subsystem = _migrate_subsystem(sql_file="dist/billing.sql")
    options = sql_options(
        subsystem, BuildRoot(), setup, "upgrade", ("release:1.0", "head"), append=True
    )
    plan = interactive_plan(setup, options, _settings(), BuildRoot(), "text")
    assert plan.command is RunnerCommand.SQL
    assert plan.options == SqlOptions(
        direction="upgrade",
        target="aaaa00000001:head",
        target_label="release:1.0:head",
        sql_file=os.path.join(rule_runner.build_root, "dist/billing.sql"),
        sql_append=True,
    )
    _no_secret_in(plan.to_json())


def test_the_verify_plan_holds_no_host_state(rule_runner: RuleRunner) -> None:
    setup = _setup(rule_runner)
    policy, problems = component_policy(setup, ["cccc", "dddd"])  # dddd: another component's
    assert problems == ()
    request = process_request(setup, policy, force=False)
    plan = RunnerPlan.from_json(request.plan_json)
    assert plan.command is RunnerCommand.VERIFY
    assert plan.options == VerifyOptions(skip=("bbbb00000002",), cli_skip=("cccc00000003",))
    assert plan.buildroot == "" and plan.shared == SharedSettings()
    assert [r.checksum for r in plan.revisions] == [
        _sha256(FILES[f"{DIR}/versions/{f}"]) for f, *_ in REVISIONS
    ]
    assert rule_runner.build_root not in request.plan_json
    _no_secret_in(request.plan_json)
    assert json.loads(request.plan_json)["shared"]["backup_dir"] == ""


def test_after_an_edit_the_unchanged_revisions_are_the_same_objects(
    rule_runner: RuleRunner,
) -> None:
    before = _setup(rule_runner).revisions
    edited = f"{DIR}/versions/b_add_balance.py"
    rule_runner.write_files({edited: _revision_file("bbbb00000002", "aaaa00000001", "Balance")})
    after = _setup(rule_runner).revisions
    assert after[0] is before[0] and after[2] is before[2]
    assert after[1] is not before[1] and after[1].message == "Balance"
    assert after[1].checksum == _sha256(_revision_file("bbbb00000002", "aaaa00000001", "Balance"))

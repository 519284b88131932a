"""`--component=NAME`, the specification's parameter, on every goal that selects components.

Each goal is run with names only (no spec), against real PostgreSQL databases; then the errors:
an unknown name, and names together with specs.
"""

from __future__ import annotations

import json
import re

from e2e.conftest import COMPONENTS

ACCOUNTMGR_ENV, ACCOUNTMGR_TABLE = COMPONENTS["accountmgr"][1], COMPONENTS["accountmgr"][2]
APPPROXY_ENV, APPPROXY_TABLE = COMPONENTS["appproxy"][1], COMPONENTS["appproxy"][2]


def _components(result) -> list:
    return [c["component"] for c in json.loads(result.stdout)["components"]]


def test_migrate_status_and_restore_by_name(repo, new_database, histories):
    accountmgr, appproxy = new_database(), new_database()
    env = {ACCOUNTMGR_ENV: accountmgr.url, APPPROXY_ENV: appproxy.url}

    status = repo.run("db-status", "--component=appproxy", "--output=json", env=env)
    assert status.returncode == 0, status
    assert _components(status) == ["appproxy"]
    assert "No components given" not in status.stderr  # the default component is not used

    # Comma-separated, in any order: run in the documented order, as `::` would.
    migrated = repo.run("db-migrate", "--component=appproxy,accountmgr", env=env)
    assert migrated.returncode == 0, migrated
    assert "Order (upgrade, migration_order): accountmgr → appproxy" in migrated.stdout
    assert accountmgr.versions(ACCOUNTMGR_TABLE) == (histories["accountmgr"].head,)
    assert appproxy.versions(APPPROXY_TABLE) == (histories["appproxy"].head,)

    # Repeated.
    check = repo.run(
        "db-status", "--check", "--component=accountmgr", "--component=appproxy", env=env
    )
    assert check.returncode == 0, check
    assert "db-status: 2/2 components up-to-date" in check.stdout

    down = repo.run(
        "db-migrate", "--component=appproxy", "--direction=downgrade", "--target=-1", env=env
    )
    assert down.returncode == 0, down
    (backup,) = re.findall(r"^Backup: (\S+)$", down.stdout, re.M)
    restored = repo.run(
        "db-restore", f"--backup={backup}", "--component=appproxy", "--output=json", env=env
    )
    assert restored.returncode == 0, restored
    assert _components(restored) == ["appproxy"]
    assert appproxy.versions(APPPROXY_TABLE) == (histories["appproxy"].head,)


def test_rebase_and_verify_by_name(repo):
    rebase = repo.run("db-rebase", "--dry-run", "--component=accountmgr")
    assert rebase.returncode == 0, rebase
    assert "accountmgr has a single head" in rebase.stdout
    verify = repo.run("db-verify", "--component=accountmgr", "--output=json")
    assert verify.returncode == 0, verify
    assert _components(verify) == ["accountmgr"]


def test_create_migration_by_name(private_repo):
    created = private_repo.run(
        "db-create-migration", "--component=accountmgr", "--message=Add user nickname"
    )
    assert created.returncode == 0, created
    (path,) = set(
        re.findall(r"(src/ai/backend/accountmgr/models/alembic/versions/\S+\.py)", created.stdout)
    )
    assert "Add user nickname" in (private_repo.root / path).read_text()
    several = private_repo.run(
        "db-create-migration", "--component=accountmgr,appproxy", "--message=x"
    )
    assert several.returncode == 2 and "Select exactly one component" in several.stderr


def test_an_unknown_name_and_names_with_specs_are_errors(repo):
    unknown = repo.run("db-status", "--component=apprxy")
    assert unknown.returncode == 2, unknown
    assert "❌ Error: Unknown component 'apprxy'" in unknown.stderr
    assert "Known components: accountmgr, appproxy, manager" in unknown.stderr
    assert "Did you mean `appproxy`?" in unknown.stderr
    assert "pants db-status --component=appproxy" in unknown.stderr

    both = repo.run("db-migrate", "--dry-run", "--component=manager", "src/ai/backend/manager::")
    assert both.returncode == 2, both
    assert "❌ Error: Both specs and --component given" in both.stderr
    assert "Traceback" not in unknown.output + both.output


def test_help_and_readme_describe_it(repo):
    for goal in (
        "db-migrate",
        "db-status",
        "db-rebase",
        "db-create-migration",
        "db-verify",
        "db-restore",
    ):
        helped = repo.run("help", goal)
        assert helped.returncode == 0 and "--component=" in helped.stdout, goal
    readme = repo.read("README.md")
    assert "./pants db-migrate --component=appproxy" in readme

"""`./pants db-verify` as users type it: its own throwaway PostgreSQL, the real histories, and
histories broken on purpose in a private repo copy (a downgrade that drops less than its upgrade
created; a revision that differs from the models)."""

from __future__ import annotations

import re

from e2e.conftest import COMPONENTS

ACCOUNTMGR = "src/ai/backend/accountmgr::"
VERSIONS = "src/ai/backend/accountmgr/models/alembic/versions"
BUILD = "src/ai/backend/accountmgr/models/alembic/BUILD"
USER_MODEL = "src/ai/backend/accountmgr/models/user.py"
NEW = "ffff00000001"

REVISION = '''"""Add user nickname

Revision ID: {rev}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_users_nickname"), "users", ["nickname"], unique=False)


def downgrade() -> None:
{downgrade}
'''

FULL_DOWNGRADE = """    op.drop_index(op.f("ix_users_nickname"), table_name="users")
    op.drop_column("users", "nickname")"""
# Drops less than the upgrade created: the column stays.
BROKEN_DOWNGRADE = """    op.drop_index(op.f("ix_users_nickname"), table_name="users")"""


def add_revision(repo, histories, downgrade: str) -> str:
    path = f"{VERSIONS}/{NEW}_add_user_nickname.py"
    repo.write(
        path, REVISION.format(rev=NEW, down=histories["accountmgr"].head, downgrade=downgrade)
    )
    return path


def add_model_column(repo) -> None:
    model = repo.read(USER_MODEL)
    anchor = '    sa.Column("password", sa.String(length=128)),\n'
    assert anchor in model
    repo.write(
        USER_MODEL,
        model.replace(
            anchor, anchor + '    sa.Column("nickname", sa.String(length=64), index=True),\n'
        ),
    )


def set_target_fields(repo, **fields: str) -> None:
    """Add fields (Python source) to accountmgr's alembic_migrations target."""
    build = re.sub(r"\n\s*verify_\w+=.*", "", repo.read(BUILD))
    extra = "".join(f"\n    {name}={value}," for name, value in fields.items())
    anchor = 'alembic_config="alembic-accountmgr.ini",'
    repo.write(BUILD, build.replace(anchor, anchor + extra))


def test_the_three_components_verify_clean_and_touch_no_other_database(
    repo, histories, new_database
):
    # URL variables pointing at real databases: db-verify must ignore them and use its own server.
    dbs = {name: new_database() for name in COMPONENTS}
    env = {COMPONENTS[name][1]: db.url for name, db in dbs.items()}
    # --force: run even when an earlier run (any copy on this machine) left the result cached.
    result = repo.run("db-verify", "--force", "::", env=env)
    assert result.returncode == 0, result
    for name in COMPONENTS:
        assert f"{name}: throwaway PostgreSQL" in result.stdout
    assert result.stdout.count("✅ Verification successful") == 3
    positions = []
    for name in ("accountmgr", "appproxy", "manager"):
        history = histories[name]
        n = len(history.ordered())
        block = result.stdout[result.stdout.index(f"Component: {name}") :]
        positions.append(result.stdout.index(f"Component: {name}"))
        assert block.startswith(
            f"Component: {name}\nRevisions: {n} (<base> → {history.head})"
        ), block[:200]
        assert f"schema restored after {n} of {n} downgrades" in block
        assert "Upgrade to head again: the same schema as the first upgrade" in block
        assert "Models match the schema at head (Alembic autogenerate): no differences" in block
        assert "Skipped:\n  - nothing" in block
        # One line per revision and phase, as it happens.
        for revision in history.ordered():
            assert f"{name}:   ↑ {revision} applied (" in result.stdout
            assert f"{name}:   ↓ {revision} reverted, schema restored (" in result.stdout
    assert positions == sorted(positions)  # reports in the documented order
    assert "db-verify: 3/3 components verified: accountmgr verified (6 revisions)" in result.stdout
    assert "starting the development PostgreSQL" not in result.output
    assert "change tracking missed" not in result.output  # incremental snapshots agreed throughout
    for name, db in dbs.items():
        assert db.tables() == set(), name
        assert db.server.password not in result.output
    assert "Traceback" not in result.output


def test_a_broken_downgrade_is_caught_and_named(private_repo, histories):
    path = add_revision(private_repo, histories, BROKEN_DOWNGRADE)
    add_model_column(
        private_repo
    )  # the models agree with the revision: only its downgrade is wrong

    result = private_repo.run("db-verify", "::")
    assert result.returncode == 1, result
    assert f"❌ Error: Downgrade of {NEW} does not restore the schema" in result.stderr
    assert (
        f"accountmgr: after downgrading {NEW} (Add user nickname), the schema differs"
        in result.stderr
    )
    assert f"Revision file: {path}" in result.stderr
    assert (
        "Left behind (the upgrade created or changed it; the downgrade did not undo it):"
        in result.stderr
    )
    assert "+ column users.nickname: character varying(64)" in result.stderr
    assert f'add "{NEW}" to verify_skip' in result.stderr
    assert "Traceback" not in result.output
    # The other components are independent: verified all the same.
    assert result.stdout.count("✅ Verification successful") == 2
    assert (
        "db-verify: 2/3 components verified: accountmgr failed, appproxy verified" in result.stdout
    )

    # Knowingly irreversible: verify_skip reverts it without comparing, and says what it leaves.
    set_target_fields(private_repo, verify_skip=f'["{NEW}"]')
    skipped = private_repo.run("db-verify", ACCOUNTMGR)
    assert skipped.returncode == 0, skipped
    assert (
        f"{NEW} (Add user nickname): downgrade not compared (verify_skip); it leaves + column users.nickname"
        in skipped.stdout
    )
    assert "schema restored after 6 of 7 downgrades" in skipped.stdout

    # Or never downgrade below it.
    set_target_fields(private_repo, verify_min_revision=f'"{NEW}"')
    kept = private_repo.run("db-verify", ACCOUNTMGR)
    assert kept.returncode == 0, kept
    assert (
        f"Not downgraded: {NEW} and 6 revisions before it (verify_min_revision = {NEW})"
        in kept.stdout
    )

    # A typo in either field is a pre-flight error: nothing starts.
    set_target_fields(private_repo, verify_skip='["nope123"]')
    typo = private_repo.run("db-verify", ACCOUNTMGR)
    assert typo.returncode == 1, typo
    assert "❌ Error: Cannot locate revision 'nope123'" in typo.stderr
    assert "verify_skip names 'nope123'" in typo.stderr
    assert "throwaway PostgreSQL" not in typo.stdout
    assert "Traceback" not in typo.output


def test_a_revision_that_differs_from_the_models_is_caught_and_named(private_repo, histories):
    # A correct round trip, but the models never heard of the column.
    add_revision(private_repo, histories, FULL_DOWNGRADE)
    result = private_repo.run("db-verify", ACCOUNTMGR)
    assert result.returncode == 1, result
    assert f"❌ Error: Models differ from the migrated schema ({NEW})" in result.stderr
    assert f"First revision involved: {NEW} (Add user nickname)" in result.stderr
    assert (
        f"column users.nickname (VARCHAR(64)): only in the database (last changed by {NEW})"
        in result.stderr
    )
    assert (
        f"index ix_users_nickname on users (nickname): only in the database (last changed by {NEW})"
        in (result.stderr)
    )
    assert "schema restored after 7 of 7 downgrades" not in result.stdout  # no success block
    assert f"accountmgr:   ↓ {NEW} reverted, schema restored" in result.stdout
    assert "Traceback" not in result.output

    # The other way round: a model edited without a revision.
    (private_repo.root / f"{VERSIONS}/{NEW}_add_user_nickname.py").unlink()
    add_model_column(private_repo)
    edited = private_repo.run("db-verify", ACCOUNTMGR)
    assert edited.returncode == 1, edited
    head = histories["accountmgr"].head
    assert f"❌ Error: Models differ from the migrated schema ({head})" in edited.stderr
    assert f"No revision creates what the models add: the history ends at {head}" in edited.stderr
    assert "column users.nickname (VARCHAR(64)): only in the models" in edited.stderr


def test_bad_input_is_refused_before_anything_starts(repo):
    unknown = repo.run("db-verify", "--skip=doesnotexist", "::")
    assert unknown.returncode == 1, unknown
    assert "❌ Error: Cannot locate revision 'doesnotexist'" in unknown.stderr
    assert "in none of the selected components (accountmgr, appproxy, manager)" in unknown.stderr

    negative = repo.run("db-verify", "--parallel=-1", "::")
    assert negative.returncode == 2, negative
    assert "❌ Error: Invalid --parallel=-1" in negative.stderr

    nothing = repo.run("db-verify", "pants-plugins::")
    assert nothing.returncode == 2, nothing
    assert "❌ Error: No migration target for `pants-plugins::`" in nothing.stderr

    for result in (unknown, negative, nothing):
        assert "throwaway PostgreSQL" not in result.stdout
        assert "Traceback" not in result.output


def test_one_at_a_time_and_a_cli_skip(repo, histories):
    first = histories["appproxy"].ordered()[0]
    result = repo.run(
        "db-verify",
        "--force",
        "--parallel=1",
        f"--skip={first[:8]}",
        "src/ai/backend/appproxy::",
        ACCOUNTMGR,
    )
    assert result.returncode == 0, result
    assert "db-verify: accountmgr, appproxy (1 at a time" in result.stdout
    # Strictly one after the other: accountmgr's process ended before appproxy's started.
    log = result.stderr
    assert log.index("Completed: Verify accountmgr") < log.index("Starting: Verify appproxy"), log
    assert result.stdout.rindex("accountmgr:   ↑") < result.stdout.index(
        "appproxy: upgrade from empty"
    )
    assert f"{first} " in result.stdout
    assert (
        "downgrade not compared (--skip); it restores the schema anyway, so --skip is not needed"
        in result.stdout
    )
    assert "verify_skip" not in result.stdout.split("Component: appproxy")[1]
    assert "db-verify: 2/2 components verified" in result.stdout

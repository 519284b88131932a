"""Which components a command line selects: Pants' own selection, our words when it is empty."""

from __future__ import annotations

import pytest

GOALS = ("db-migrate", "db-status", "db-verify", "db-rebase")


@pytest.mark.parametrize("goal", GOALS)
def test_a_typo_in_a_spec_path_gets_the_component_it_meant(repo, goal):
    result = repo.run(goal, "src/ai/backend/manger::")
    assert result.returncode == 2, result
    assert "❌ Error: No migration target for `src/ai/backend/manger::`" in result.stderr
    assert "Did you mean `src/ai/backend/manager::`?" in result.stderr
    assert f"1. pants {goal} src/ai/backend/manager::" in result.stderr
    assert "accountmgr::" not in result.stderr  # only the closest
    assert "Traceback" not in result.output


def test_a_typo_in_a_target_address_and_nothing_alike(repo):
    typo = repo.run("db-status", "src/ai/backend/acountmgr/models/alembic:migrations")
    assert typo.returncode == 2, typo
    assert "Did you mean `src/ai/backend/accountmgr/models/alembic:migrations`?" in typo.stderr
    unlike = repo.run("db-status", "src/ai/backend/xyz::")
    assert unlike.returncode == 2, unlike
    assert "Did you mean" not in unlike.stderr
    assert "Unmatched glob" in unlike.stderr and "Traceback" not in unlike.output


def test_every_spec_must_select_a_component(repo):
    mixed = repo.run("db-status", "src/ai/backend/manager::", "pants-plugins::")
    assert mixed.returncode == 2, mixed
    assert "❌ Error: No migration target for `pants-plugins::`" in mixed.stderr
    assert "it matches only" in mixed.stderr

from __future__ import annotations

from db_migrate.rules.selection import closest_specs, example_selector

DIRS = [
    "src/ai/backend/manager/models/alembic",
    "src/ai/backend/accountmgr/models/alembic",
    "src/ai/backend/appproxy/models/alembic",
]


def test_a_typo_in_a_directory_gets_the_component_it_meant() -> None:
    assert closest_specs("src/ai/backend/manger::", "src/ai/backend/manger", DIRS) == (
        "src/ai/backend/manager::",
    )
    assert closest_specs("src/ai/backnd:", "src/ai/backnd", DIRS) == ("src/ai/backend:",)
    typo = "src/ai/backend/acountmgr/models/alembic"
    assert closest_specs(f"{typo}:migrations", typo, DIRS) == (
        "src/ai/backend/accountmgr/models/alembic:migrations",
    )


def test_nothing_alike_gets_no_suggestion() -> None:
    assert closest_specs("src/ai/backend/xyz::", "src/ai/backend/xyz", DIRS) == ()
    assert closest_specs("docs::", "docs", DIRS) == ()
    assert closest_specs("::", "", DIRS) == ()
    # A spec deeper than any component directory: nothing of the same depth to compare.
    assert closest_specs("a/b/c/d/e/f/g::", "a/b/c/d/e/f/g", DIRS) == ()


def test_a_hint_names_a_component_of_the_repository_at_hand() -> None:
    assert example_selector((), DIRS) == "src/ai/backend/manager::"
    assert example_selector(("src/ai/backend/appproxy::",), DIRS) == "src/ai/backend/appproxy::"
    assert example_selector((), ["services/billing/migrations"]) == "services/billing::"
    assert example_selector((), ["db/migrations"]) == "db::"
    assert example_selector((), ["migrations"]) == "migrations::"
    assert example_selector((), ["services/billing/migrations/shop"]) == (
        "services/billing/migrations/shop::"
    )
    assert example_selector((), []) == "path/to/component::"

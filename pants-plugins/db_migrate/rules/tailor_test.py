from __future__ import annotations

from db_migrate.rules.tailor import component_from_ini, target_name


def test_the_component_is_named_after_its_ini_or_its_folder() -> None:
    assert component_from_ini("alembic-appproxy.ini", "src/ai/backend/appproxy/models") == (
        "appproxy"
    )
    assert component_from_ini("services/billing/alembic.ini", "services/billing/migrations") == (
        "billing"
    )
    assert component_from_ini("alembic.ini", "src/ai/backend/manager/models/alembic") == "manager"


def test_the_target_is_never_named_like_the_python_sources_beside_it() -> None:
    """Pants' Python tailor names the `python_sources` it proposes for env.py after the folder."""
    assert target_name("services/billing/migrations") == "alembic"
    assert target_name("migrations") == "alembic"
    assert target_name("src/ai/backend/manager/models/alembic") == "migrations"

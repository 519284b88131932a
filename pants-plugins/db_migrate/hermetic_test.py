from __future__ import annotations

import configparser

from db_migrate.hermetic import without_database_urls

INI = """# a comment: sqlalchemy.url = kept, it is a comment
[alembic]
script_location = %(here)s/src/ai/backend/manager/models/alembic
sqlalchemy.url = postgresql+psycopg://postgres:pw-in-ini@127.0.0.1:8101/backend
version_table = alembic_version

[other]
SQLAlchemy.URL: postgresql://u:multi
    line-secret@db/x
keep = yes
"""


def test_every_url_goes_and_everything_else_stays() -> None:
    cleaned = without_database_urls(INI)
    assert "pw-in-ini" not in cleaned and "line-secret" not in cleaned
    parser = configparser.RawConfigParser()
    parser.read_string(cleaned)
    assert dict(parser["alembic"]) == {
        "script_location": "%(here)s/src/ai/backend/manager/models/alembic",
        "version_table": "alembic_version",
    }
    assert dict(parser["other"]) == {"keep": "yes"}
    assert cleaned.startswith("# a comment: sqlalchemy.url = kept")


def test_an_ini_without_a_url_is_unchanged() -> None:
    text = "[alembic]\nscript_location = here\n"
    assert without_database_urls(text) == text

from __future__ import annotations

import configparser

from db_migrate.rules.hermetic import dialect_only_urls

INI = """# a comment: sqlalchemy.url = kept, it is a comment
[alembic]
script_location = %(here)s/src/ai/backend/manager/models/alembic
sqlalchemy.url = postgresql+psycopg://postgres:pw-in-ini@127.0.0.1:8101/backend
version_table = alembic_version

[other]
SQLAlchemy.URL: postgresql+asyncpg://u:multi
    line-secret@db/x
keep = yes

[third]
sqlalchemy.url = %(DB_URL)s
sqlalchemy.url.extra = stays
"""


def _sections(text: str) -> dict:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return {name: dict(parser[name]) for name in parser.sections()}


def test_every_url_keeps_its_dialect_only_and_everything_else_stays() -> None:
    cleaned = dialect_only_urls(INI)
    for secret in ("pw-in-ini", "line-secret", "127.0.0.1", "8101", "db/x", "multi", "DB_URL"):
        assert secret not in cleaned.split("\n", 1)[1], secret
    assert _sections(cleaned) == {
        "alembic": {
            "script_location": "%(here)s/src/ai/backend/manager/models/alembic",
            # What Alembic's offline mode (the migration-safety lint) needs: the dialect.
            "sqlalchemy.url": "postgresql+psycopg://",
            "version_table": "alembic_version",
        },
        "other": {"sqlalchemy.url": "postgresql+asyncpg://", "keep": "yes"},
        "third": {"sqlalchemy.url.extra": "stays"},  # no dialect to keep: the option goes
    }
    assert cleaned.startswith("# a comment: sqlalchemy.url = kept")


def test_an_ini_without_a_url_is_unchanged() -> None:
    text = "[alembic]\nscript_location = here\n"
    assert dialect_only_urls(text) == text

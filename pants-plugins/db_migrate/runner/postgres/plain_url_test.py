"""`plain_url` says what SQLAlchemy's `make_url` says, or nothing: on generated URLs, inside the
plain shape and just outside it, against the SQLAlchemy of this resolve."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from urllib.parse import quote

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from hypothesis import find, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

import db_migrate.runner.postgres.database  # noqa: F401 - the fresh interpreter below imports it
from db_migrate.core.database_url import DatabaseUrl
from db_migrate.core.plain_url import PlainUrl, plain_url

# Each part is plain (what `plain_url` reads), plain with escapes and sub-delimiters (read too,
# in a password), or mixed with what stresses a URL: delimiters, spaces, non-ASCII, newlines.
_PLAIN_CHARS = list("abcXYZ019_.-")
_ESCAPED = _PLAIN_CHARS + ["%40", "%2F", "%3a", "%zz", "%%", "%", "+", "~", "!", "&", "="]
_AWKWARD = _PLAIN_CHARS + list(":/@?#[]% &;,'()*$\n\t") + ["é", "%40"]


def _text(chars) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(chars), max_size=8).map("".join)


@st.composite
def urls(draw: st.DrawFn) -> str:
    """Half of them of the plain shape (escapes and sub-delimiters in the password, parts left
    out), half with anything in any part."""
    plain = draw(st.booleans())
    name = (
        _text(_PLAIN_CHARS) if plain else st.one_of(*map(_text, (_PLAIN_CHARS, _ESCAPED, _AWKWARD)))
    )
    maybe = (lambda s: st.one_of(st.none(), s, s)) if plain else (lambda s: st.one_of(st.none(), s))
    scheme = draw(
        st.sampled_from(
            [
                "postgresql",
                "postgresql+psycopg",
                "postgresql+asyncpg",
                "postgresql+pg8000",
                "postgresql+nope",
            ]
            + ([] if plain else ["postgres", "mysql+pymysql", "Postgresql", "postgresql+"])
        )
    )
    user = draw(maybe(name))
    password = draw(maybe(_text(_ESCAPED) if plain else name))
    hosts = ["db.internal", "127.0.0.1"] + ([] if plain else ["[::1]", "[fe80::1%25eth0]"])
    host = draw(maybe(st.one_of(name, st.sampled_from(hosts))))
    ports = ["5432", "0", "65535", "99999", "05432"] + ([] if plain else ["", "x1"])
    port = draw(maybe(st.sampled_from(ports)))
    database = draw(name if plain else maybe(name))
    queries = ["", "sslmode=require", "host=/tmp&port=1"]
    query = None if plain else draw(maybe(st.sampled_from(queries)))
    text = f"{scheme}://"
    if user is not None:
        text += user + (f":{password}" if password is not None else "") + "@"
    text += (host or "") + (f":{port}" if port is not None else "")
    text += f"/{database}" if database is not None else ""
    return text + (f"?{query}" if query is not None else "")


def _sqlalchemy_reading(text: str):
    url = make_url(text)
    return (
        url.drivername,
        url.username,
        url.password,
        url.host,
        url.port,
        url.database,
        dict(url.query),
        url.render_as_string(True),
        url.render_as_string(False),
    )


@settings(max_examples=1500, deadline=None)
@given(urls())
def test_a_plain_url_reads_as_sqlalchemy_reads_it(text):
    plain = plain_url(text)
    if plain is None:
        return
    ours = (
        plain.drivername,
        plain.username,
        plain.password,
        plain.host,
        plain.port,
        plain.database,
        dict(plain.query),
        plain.render_as_string(True),
        plain.render_as_string(False),
    )
    assert ours == _sqlalchemy_reading(text)
    moved, theirs = plain.set(database="other"), make_url(text).set(database="other")
    assert isinstance(moved, PlainUrl) and plain_url(moved.text) == moved
    for part in ("drivername", "username", "password", "host", "port", "database"):
        assert getattr(moved, part) == getattr(theirs, part), part
    assert moved.render_as_string(False) == theirs.render_as_string(False)
    assert plain.set(database="two words") == make_url(text).set(database="two words")


def test_the_generated_urls_reach_the_plain_shape_with_escapes_and_without_parts():
    """The comparison above is not vacuous: the generator does reach what `plain_url` reads."""
    settings_ = settings(max_examples=5000, database=None)
    for wanted in (
        lambda p: p.password is not None and "%" in p.text.split("@")[0],
        lambda p: p.host is None and p.port is not None,
        lambda p: p.username is None and p.drivername == "postgresql+asyncpg",
    ):
        find(
            urls(),
            lambda u, w=wanted: plain_url(u) is not None and w(plain_url(u)),
            settings=settings_,
        )


@pytest.mark.parametrize(
    "text",
    [
        "postgresql+psycopg://postgres:s3cret@127.0.0.1:8101/backend",
        "postgresql://app@db.internal/app",
        "postgresql+asyncpg://u:p%40ss%2Fword@h:5432/db",
        "postgresql:///local_db",
        "postgresql+psycopg2://u:@h/db",
    ],
)
def test_the_usual_urls_are_read_without_sqlalchemy(text):
    plain = plain_url(text)
    assert plain is not None and plain.text == text
    assert plain.render_as_string(True) == make_url(text).render_as_string(True)
    ours, theirs = DatabaseUrl.parse(text), DatabaseUrl(make_url(text))
    for part in ("host", "port", "database", "user", "password", "where"):
        assert getattr(ours, part) == getattr(theirs, part), part
    assert ours.conninfo() == theirs.conninfo()
    assert ours.sync_url() == theirs.sync_url()


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://u:p@[::1]:5432/db",
        "postgresql://u:p@h/db?sslmode=require",
        "postgresql://u%20x:p@h/db",
        "postgresql://u:p:q@h/db",
        "postgresql://u:p@h:/db",
        "postgresql://u:p@h",
        "postgres://u:p@h/db",
        "postgresql://:p@h/db",
    ],
)
def test_anything_else_is_left_to_sqlalchemy(text):
    assert plain_url(text) is None


def test_unknown_drivers_and_other_databases_are_refused_as_before():
    for text, message in [
        ("postgresql+nope://u:p@h/db", "unknown PostgreSQL driver `nope`"),
        ("mysql+pymysql://u:p@h/db", "not a PostgreSQL URL (scheme `mysql+pymysql`)"),
        ("postgresql://u:p@h:x1/db", "SQLAlchemy cannot read it as a URL"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            DatabaseUrl.parse(text)


def test_reading_a_plain_url_and_connecting_imports_no_sqlalchemy(pg_server):
    """What db-status's runner does, in a fresh interpreter: SQLAlchemy stays unimported."""
    url = pg_server.url("postgres")
    assert plain_url(url) is not None, url
    script = textwrap.dedent(
        f"""
        import sys
        from db_migrate.core.database_url import UrlSource, DatabaseUrl
        from db_migrate.runner.postgres.database import connect
        source = UrlSource(DatabaseUrl.parse({url!r}), True, "APP_DB_URL")
        with connect(source, "app", 5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert source.url.with_database("another").database == "another"
        print(source.url.masked())
        print(sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy"))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ).stdout.splitlines()
    assert out == [make_url(url).render_as_string(True), "[]"]
    assert quote(pg_server.superuser) in out[0] and "***" in out[0]

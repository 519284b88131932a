"""The masker: no message may show a password, whatever characters it holds."""

from __future__ import annotations

from urllib.parse import quote

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.core import report
from db_migrate.core.report import Problem, mask

PASSWORDS = ["plain", "p@ss", "a:b", "sl/ash", "per%cent", "pässwörd", "@:/%ü mixed", "x@y@z"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_quoted_password_in_a_url_is_masked(password):
    url = (
        f"postgresql+asyncpg://bob:{quote(password, safe='')}@db.internal:5432/app?sslmode=require"
    )
    shown = mask(f"could not connect to {url}: timeout")
    assert quote(password, safe="") not in shown
    assert "postgresql+asyncpg://bob:***@db.internal:5432/app?sslmode=require" in shown


@pytest.mark.parametrize("password", [p for p in PASSWORDS if " " not in p])
def test_a_raw_password_in_a_url_is_masked_up_to_the_host(password):
    """A password written unquoted (as some drivers echo it) is masked up to the last `@`.
    (One with a space ends the URL for any reader; `register_secret` covers those.)"""
    shown = mask(f"bad url postgresql://bob:{password}@host/db and more")
    assert f"bob:{password}" not in shown and "postgresql://bob:***@host/db and more" in shown


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_known_secret_is_masked_anywhere(password):
    shown = mask(f"FATAL: role 'bob' said {password!r} twice: {password}", [password])
    assert password not in shown and shown.count("***") == 2


@pytest.mark.parametrize("password", ["plain", "has space", "quo'te"])
def test_a_conninfo_password_is_masked(password):
    quoted = (
        "'" + password.replace("'", "\\'") + "'" if " " in password or "'" in password else password
    )
    shown = mask(f"invalid dsn: host=h password={quoted} dbname=db")
    assert password not in shown and "password=*** dbname=db" in shown


def test_registered_secrets_are_masked_in_every_rendered_problem():
    report.register_secret("hunter2-ünï")
    rendered = Problem(title="t", details=("driver said: hunter2-ünï at h",)).render()
    assert "hunter2" not in rendered and "driver said: *** at h" in rendered


def test_text_without_secrets_is_unchanged():
    text = "Connection refused to 127.0.0.1:5432 (postgresql+psycopg://bob@h/db, user=bob)"
    assert mask(text) == text


def test_a_password_that_is_also_the_user_and_database_is_masked_only_as_the_password():
    """user = password = database = billing: paths and names keep their `billing`."""
    secrets = report.password_secrets("billing", "billing", "127.0.0.1", "billing")
    text = (
        "billing at postgresql+psycopg://billing:billing@127.0.0.1:5432/billing "
        "(sqlalchemy.url in services/billing/alembic.ini): database billing_archive is missing"
    )
    assert mask(text, secrets) == text.replace("billing:billing@", "billing:***@")


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_password_of_its_own_is_masked_anywhere_in_every_form(password):
    secrets = report.password_secrets(password, "bob", "db.internal", "app")
    shown = mask(f"said {password} then {quote(password, safe='')}", secrets)
    assert shown == "said *** then ***"

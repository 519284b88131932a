from __future__ import annotations

from db_migrate.runner.alembic_glue.revision_sql import RenderedSql, Statement
from db_migrate.runner.safety.rules import (
    DATA_CHANGE_WITHOUT_DOWNGRADE,
    DOWNGRADE_DROPS_DATA,
    ENUM_VALUE_USED_IN_TRANSACTION,
    data_change_without_downgrade,
    downgrade_drops_data,
    enum_value_used_in_transaction,
    read_ignores,
)


def sql(direction: str, *statements: str, in_transaction: bool = True) -> RenderedSql:
    return RenderedSql(
        direction, [Statement(s, n) for n, s in enumerate(statements, 10)], in_transaction
    )


def test_a_downgrade_that_drops_tables_or_columns_loses_their_data():
    found = downgrade_drops_data(
        sql(
            "downgrade",
            "DROP INDEX ix_users_nick;",
            "ALTER TABLE users DROP COLUMN nick;",
            'ALTER TABLE public."Users" DROP COLUMN IF EXISTS "Nick", DROP COLUMN age;',
            "ALTER TABLE users DROP CONSTRAINT fk_x, ALTER COLUMN a DROP DEFAULT, ALTER COLUMN b DROP NOT NULL;",
            "DROP TABLE IF EXISTS audit_log;",
            "DROP TYPE userstatus;",
        )
    )
    assert [(f.rule, f.statement.line) for f in found] == [(DOWNGRADE_DROPS_DATA, 11)] + [
        (DOWNGRADE_DROPS_DATA, 12)
    ] * 2 + [(DOWNGRADE_DROPS_DATA, 14)]
    assert "users.nick" in found[0].message
    assert "public.Users.Nick" in found[1].message and "public.Users.age" in found[2].message
    assert "table audit_log" in found[3].message


def test_a_data_change_needs_its_inverse_or_the_drop_of_what_holds_it():
    upgrade = sql("upgrade", "UPDATE users SET status = 'active' WHERE status IS NULL;")
    (finding,) = data_change_without_downgrade(upgrade, sql("downgrade", "SELECT 1;"))
    assert finding.rule == DATA_CHANGE_WITHOUT_DOWNGRADE and "users" in finding.message
    inverse = sql("downgrade", "UPDATE users SET status = NULL WHERE status = 'active';")
    assert data_change_without_downgrade(upgrade, inverse) == []
    # A backfill of a column the upgrade adds and the downgrade drops is undone by the drop.
    backfill = sql(
        "upgrade",
        "ALTER TABLE vfolders ADD COLUMN quota_scope_id VARCHAR(512);",
        "UPDATE vfolders SET quota_scope_id = 'user:' || owner;",
    )
    assert (
        data_change_without_downgrade(
            backfill, sql("downgrade", "ALTER TABLE vfolders DROP COLUMN quota_scope_id;")
        )
        == []
    )
    seeded = sql("upgrade", "INSERT INTO roles (name) VALUES ('admin');")
    assert data_change_without_downgrade(seeded, sql("downgrade", "DROP TABLE roles;")) == []
    assert len(data_change_without_downgrade(seeded, sql("downgrade", "DROP TABLE other;"))) == 1
    assert (
        data_change_without_downgrade(sql("upgrade", "CREATE TABLE t (a int);"), sql("downgrade"))
        == []
    )


def test_an_enum_value_used_before_the_transaction_that_adds_it_commits():
    (found,) = enum_value_used_in_transaction(
        sql(
            "upgrade",
            "ALTER TYPE kernelstatus ADD VALUE IF NOT EXISTS 'PULLING' AFTER 'PREPARING';",
            "UPDATE kernels SET status = 'PULLING' WHERE status = 'PREPARING';",
        )
    )
    assert found.rule == ENUM_VALUE_USED_IN_TRANSACTION and found.statement.line == 11
    assert "'PULLING'" in found.message and "line 10" in found.message
    # Committed first (an autocommit block), or no transaction at all: fine.
    committed = sql(
        "upgrade",
        "COMMIT;",
        "ALTER TYPE kernelstatus ADD VALUE 'PULLING';",
        "BEGIN;",
        "UPDATE kernels SET status = 'PULLING';",
    )
    assert enum_value_used_in_transaction(committed) == []
    outside = sql(
        "upgrade", "ALTER TYPE s ADD VALUE 'x';", "UPDATE t SET s = 'x';", in_transaction=False
    )
    assert enum_value_used_in_transaction(outside) == []
    other_value = sql("upgrade", "ALTER TYPE s ADD VALUE 'x';", "UPDATE t SET s = 'y';")
    assert enum_value_used_in_transaction(other_value) == []


def test_ignore_comments():
    text = "\n".join(
        [
            '"""Doc"""',
            "# migration-safety: ignore=require-concurrent-index-creation the table is created empty at release",
            "op.execute('x')  # migration-safety: ignore=ban-drop-column, renaming-column  both reviewed in #123",
            "# migration-safety: ignore=changing-column-type",
            "# migration-safety: silence everything",
        ]
    )
    ignores, errors = read_ignores(text)
    assert [(i.rule, i.line) for i in ignores] == [
        ("require-concurrent-index-creation", 2),
        ("ban-drop-column", 3),
        ("renaming-column", 3),
    ]
    assert ignores[0].reason == "the table is created empty at release"
    assert ignores[1].reason == "both reviewed in #123"
    assert [(e.line, "why" in e.message) for e in errors] == [(4, True), (5, False)]

"""The comparison behind `db-status --drift`, on plain catalog rows (no database)."""

from __future__ import annotations

from db_migrate.core.drift import CHANGED, EXTRA, MISSING, compare, component_schemas, render

EXPECTED = [
    ["table", "", "users", "table"],
    ["column", "users", "id", "integer NOT NULL"],
    ["column", "users", "email", "character varying(64) DEFAULT ''::character varying"],
    ["constraint", "users", "pk_users", "PRIMARY KEY (id)"],
    [
        "index",
        "users",
        "ix_users_email",
        "CREATE INDEX ix_users_email ON public.users USING btree (email)",
    ],
    ["trigger", "users", "users_touch", "CREATE TRIGGER users_touch BEFORE UPDATE ON users ..."],
    ["function", "", "touch()", "returns trigger plpgsql body 0123"],
    ["enum", "", "role", "'admin', 'user'"],
    ["extension", "", "pg_trgm", "1.6"],
    ["sequence", "users", "users_id_seq", "integer START 1 OWNED BY users.id"],
]


def _changed(rows, kind, name, description):
    return [r if (r[0], r[2]) != (kind, name) else [*r[:3], description] for r in rows]


def test_the_same_rows_are_no_drift() -> None:
    drift = compare(EXPECTED, list(EXPECTED), version_table="alembic_version")
    assert not drift and drift.differences == ()
    assert drift.schemas == ("public",)
    assert "none: the database matches the scripts at abc" in render(drift, "abc", "db")[0]


def test_each_kind_of_difference_is_named() -> None:
    live = _changed(EXPECTED, "column", "email", "character varying(64)")  # default dropped
    live = _changed(live, "enum", "role", "'admin', 'user', 'guest'")
    live = _changed(live, "function", "touch()", "returns trigger plpgsql body 4567")
    live = [r for r in live if r[2] not in ("ix_users_email", "users_touch")]
    live += [["column", "users", "nickname", "text"], ["extension", "", "hstore", "1.8"]]
    drift = compare(EXPECTED, live, version_table="alembic_version")
    found = {(d.kind, d.name): d for d in drift.differences}
    assert found[("column", "email")].change == CHANGED
    assert found[("column", "email")].expected.endswith("DEFAULT ''::character varying")
    assert found[("column", "email")].actual == "character varying(64)"
    assert found[("enum", "role")].actual == "'admin', 'user', 'guest'"
    assert found[("function", "touch()")].change == CHANGED
    assert found[("index", "ix_users_email")].change == MISSING
    assert found[("trigger", "users_touch")].actual is None
    assert found[("column", "nickname")].change == EXTRA
    assert found[("extension", "hstore")].expected is None
    assert len(drift.differences) == 7
    text = "\n".join(render(drift, "abc", "the database"))
    assert "7 differences" in text
    assert "  table users:\n    - column email: changed\n" in text
    assert "        scripts:  character varying(64) DEFAULT ''::character varying" in text
    assert "        database: character varying(64)\n" in text
    assert "    - index ix_users_email: missing from the database" in text
    assert text.index("extension hstore") < text.index("table users:")


def test_an_extra_table_is_one_difference_with_its_parts_counted() -> None:
    live = EXPECTED + [
        ["table", "", "audit", "table"],
        ["column", "audit", "id", "integer"],
        ["column", "audit", "at", "timestamp"],
        ["index", "audit", "ix_audit_at", "CREATE INDEX ..."],
    ]
    drift = compare(EXPECTED, live, version_table="alembic_version")
    (only,) = drift.differences
    assert (only.kind, only.name, only.change) == ("table", "audit", EXTRA)
    assert "database: table (2 columns, 1 index)" in "\n".join(render(drift, "abc", "db"))
    assert drift.to_dict()["differences"][0] == {
        "object": "table",
        "table": None,
        "name": "audit",
        "change": "extra",
        "expected": None,
        "actual": "table",
    }


def test_other_schemas_version_tables_and_other_components_are_not_drift() -> None:
    live = EXPECTED + [
        ["schema", "", "pants_db_migrate", ""],
        ["table", "", "pants_db_migrate.alembic_version_checksums", "table"],
        ["column", "pants_db_migrate.alembic_version_checksums", "revision", "text"],
        ["table", "", "elsewhere.things", "table"],
        ["table", "", "alembic_version_appproxy", "table"],
        ["column", "alembic_version_appproxy", "version_num", "character varying(32) NOT NULL"],
        ["table", "", "circuits", "table"],
        ["column", "circuits", "id", "integer"],
        ["extension", "", "uuid-ossp", "1.1"],
    ]
    others = [["table", "", "circuits", "table"], ["column", "circuits", "id", "integer"]]
    others.append(["extension", "", "uuid-ossp", "1.1"])
    drift = compare(
        EXPECTED,
        live,
        version_table="alembic_version",
        version_tables=["alembic_version_appproxy"],
        others=others,
    )
    assert not drift, drift


def test_an_object_both_components_create_is_still_compared() -> None:
    others = [["extension", "", "pg_trgm", "1.6"]]
    live = [r for r in EXPECTED if r[2] != "pg_trgm"]
    drift = compare(EXPECTED, live, version_table="alembic_version", others=others)
    assert [(d.kind, d.change) for d in drift.differences] == [("extension", MISSING)]


def test_the_component_schemas_come_from_the_version_table_and_the_replay() -> None:
    rows = [["table", "", "billing.invoices", "table"], ["function", "", "util.f(x.t)", "..."]]
    assert component_schemas(rows, "billing.alembic_version") == ("billing", "util")
    assert component_schemas([], "alembic_version") == ("public",)
    drift = compare(rows, rows + [["table", "", "other.t", "table"]], version_table="billing.v")
    assert not drift

"""The pure half of `schema`: differences, deltas and the text people read. No database."""

from __future__ import annotations

from db_migrate.runner.verify.schema import (
    EMPTY,
    Key,
    Schema,
    delta,
    diff,
    from_rows,
    revert,
    snapshot_sql,
)


def S(**objects: str) -> Schema:
    """A schema from `kind__parent__name="description"` (parent may be empty)."""
    out = {}
    for spec, text in objects.items():
        kind, parent, name = spec.split("__")
        out[Key(kind, parent, name)] = text
    return Schema(out)


USERS = S(
    table____users="table",
    column__users__id="uuid NOT NULL DEFAULT gen_random_uuid()",
    column__users__email="character varying(64) NOT NULL",
    constraint__users__pk_users="PRIMARY KEY (id)",
    index__users__ix_users_email="CREATE INDEX ix_users_email ON public.users USING btree (email)",
    enum____userstatus="'active', 'inactive'",
)


def test_equal_schemas_have_no_difference() -> None:
    assert not diff(USERS, Schema(dict(USERS.objects)))
    assert diff(USERS, USERS).render() == []


def test_extra_missing_and_changed_objects() -> None:
    actual = dict(USERS.objects)
    actual[Key("column", "users", "nickname")] = "text"
    del actual[Key("index", "users", "ix_users_email")]
    actual[Key("column", "users", "email")] = "text NOT NULL"
    difference = diff(USERS, Schema(actual))
    assert set(difference.extra) == {Key("column", "users", "nickname")}
    assert set(difference.missing) == {Key("index", "users", "ix_users_email")}
    assert difference.changed == {
        Key("column", "users", "email"): ("character varying(64) NOT NULL", "text NOT NULL")
    }
    text = "\n".join(
        difference.render(
            extra_title="Left behind:", missing_title="Removed:", changed_title="Changed:"
        )
    )
    assert text == "\n".join(
        [
            "  Left behind:",
            "    + column users.nickname: text",
            "  Removed:",
            "    - index ix_users_email: on users (email)",
            "  Changed:",
            "    ~ column users.email: character varying(64) NOT NULL → text NOT NULL",
        ]
    )


def test_a_table_left_behind_is_one_line_with_its_parts_counted() -> None:
    text = diff(EMPTY, USERS).render(extra_title="Left behind:")
    assert text == [
        "  Left behind:",
        "    + enum userstatus: ('active', 'inactive')",
        "    + table users (2 columns, 1 constraint, 1 index)",
    ]


def test_parts_of_a_table_that_stays_are_listed_one_by_one() -> None:
    before = S(table____users="table")
    after = S(
        table____users="table",
        column__users__a="integer",
        index__users__ix_a="CREATE UNIQUE INDEX ix_a ON public.users USING btree (a)",
        trigger__users__t_touch="CREATE TRIGGER t_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION touch()",
    )
    lines = diff(before, after).render(extra_title="Left behind:")
    assert lines[1:] == [
        "    + column users.a: integer",
        "    + index ix_a: unique on users (a)",
        "    + trigger users.t_touch: BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()",
    ]


def test_an_owned_sequence_goes_with_its_table() -> None:
    before = S(table____other="table")
    after = S(
        table____other="table",
        table____jobs="table",
        column__jobs__id="integer NOT NULL DEFAULT nextval('jobs_id_seq'::regclass)",
        sequence__jobs__jobs_id_seq="integer START 1 INCREMENT 1 OWNED BY jobs.id",
    )
    assert diff(before, after).render(extra_title="Left behind:")[1:] == [
        "    + table jobs (1 column, 1 sequence)"
    ]


def test_enum_labels_changed() -> None:
    after = dict(USERS.objects)
    after[Key("enum", "", "userstatus")] = "'active', 'inactive', 'deleted'"
    (line,) = diff(USERS, Schema(after)).render()[1:]
    assert (
        line == "    ~ enum userstatus: ('active', 'inactive') → ('active', 'inactive', 'deleted')"
    )


def test_long_differences_are_cut_with_a_count() -> None:
    after = {Key("column", "t", f"c{i:02}"): "integer" for i in range(50)}
    lines = diff(EMPTY, Schema(after)).render(limit=10)
    assert len(lines) == 12
    assert lines[-1] == "    ... and 40 more"


def test_summary_names_the_first_objects() -> None:
    after = dict(USERS.objects)
    after[Key("column", "users", "nickname")] = "text"
    after[Key("column", "users", "age")] = "integer"
    del after[Key("index", "users", "ix_users_email")]
    after[Key("enum", "", "userstatus")] = "'x'"
    summary = diff(USERS, Schema(after)).summary(limit=3)
    assert (
        summary == "+ column users.age, + column users.nickname, - index ix_users_email and 1 more"
    )


def test_without_ignores_the_given_objects() -> None:
    after = dict(USERS.objects)
    after[Key("column", "users", "nickname")] = "text"
    difference = diff(USERS, Schema(after))
    assert difference
    assert not difference.without({Key("column", "users", "nickname")})


def test_revert_undoes_a_delta_and_delta_is_empty_for_equal_schemas() -> None:
    before = USERS
    after_objects = dict(USERS.objects)
    after_objects[Key("column", "users", "nickname")] = "text"
    after_objects[Key("column", "users", "email")] = "text NOT NULL"
    del after_objects[Key("enum", "", "userstatus")]
    after = Schema(after_objects)
    change = delta(before, after)
    assert set(change) == {
        Key("column", "users", "nickname"),
        Key("column", "users", "email"),
        Key("enum", "", "userstatus"),
    }
    assert revert(after, change).objects == before.objects
    assert delta(after, after) == {}
    assert revert(after, {}) is after


def test_rows_become_a_schema_with_whitespace_normalized() -> None:
    schema = from_rows(
        [("table", "", "v", "view:  SELECT 1\n   AS x;"), ("column", "t", "a", None)]
    )
    assert schema.objects == {
        Key("table", "", "v"): "view: SELECT 1 AS x;",
        Key("column", "t", "a"): "",
    }
    assert schema.tables() == {"v"}


def test_the_version_table_is_left_out_by_its_qualified_name() -> None:
    assert "<> 'alembic_version'" in snapshot_sql("alembic_version")
    assert "<> 'alembic_version'" in snapshot_sql("public.alembic_version")
    assert "<> 'meta.alembic_version'" in snapshot_sql("meta.alembic_version")
    assert "<> 'it''s'" in snapshot_sql("it's")
    assert "%" not in snapshot_sql("alembic_version")  # drivers may read % as a placeholder

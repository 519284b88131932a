"""Alembic's autogenerate differences (`compare_metadata`, `UpgradeOps.as_diffs()`) in words.

One sentence per difference, saying where the object exists (only in the models, only in the
database) or what differs, plus the schema objects it is about, so a caller can name the revision
that last changed them. Used by `db-verify` (models vs. the migrated schema) and
`db-create-migration` (what autogenerate found).
"""

from __future__ import annotations

from typing import Any, Iterable, List, NamedTuple, Optional, Tuple

from db_migrate.runner.verify.schema import Key

IN_MODELS = "only in the models"
IN_DATABASE = "only in the database"

_MODIFIED = {
    "modify_type": "type",
    "modify_nullable": "nullable",
    "modify_default": "server default",
    "modify_comment": "comment",
}
_CONSTRAINT_KINDS = {"ForeignKeyConstraint": "foreign key", "UniqueConstraint": "unique constraint"}


class ModelDifference(NamedTuple):
    text: str
    keys: Tuple[Key, ...]  # the schema objects (`schema.Key`) it is about


def flatten(diffs: Iterable[Any]) -> List[tuple]:
    """Alembic groups a column's modifications in a list: one entry per difference instead."""
    flat: List[tuple] = []
    for entry in diffs:
        flat.extend(entry if isinstance(entry, list) else [entry])
    return flat


def differences(diffs: Iterable[Any]) -> List[ModelDifference]:
    return [describe(entry) for entry in flatten(diffs)]


def _qualified(schema_name: Optional[str], name: str) -> str:
    return name if schema_name in (None, "", "public") else f"{schema_name}.{name}"


def _table_of(obj: Any) -> str:
    table = getattr(obj, "table", None)
    if table is None:
        return "?"
    return _qualified(getattr(table, "schema", None), getattr(table, "name", "?"))


def _columns_of(obj: Any) -> str:
    try:
        return ", ".join(c.name for c in obj.columns)
    except Exception:  # noqa: BLE001 - expressions have no plain names
        return ""


def _text(value: Any) -> str:
    if value is None:
        return "none"
    arg = getattr(value, "arg", None)  # a server default
    if arg is not None:
        return str(getattr(arg, "text", arg))
    return str(value)


def _where(kind: str) -> str:
    return IN_MODELS if kind.startswith("add") else IN_DATABASE


def _table(kind: str, table: Any) -> ModelDifference:
    name = _qualified(table.schema, table.name)
    if kind.endswith("_comment"):
        return ModelDifference(f"table {name}: comment differs", (Key("table", "", name),))
    return ModelDifference(f"table {name}: {_where(kind)}", (Key("table", "", name),))


def _column(kind: str, schema_name: Optional[str], tname: str, column: Any) -> ModelDifference:
    table = _qualified(schema_name, tname)
    return ModelDifference(
        f"column {table}.{column.name} ({column.type}): {_where(kind)}",
        (Key("column", table, column.name),),
    )


def _index(kind: str, index: Any) -> ModelDifference:
    table = _table_of(index)
    name = _qualified(getattr(index.table, "schema", None), index.name or "?")
    unique = "unique " if index.unique else ""
    return ModelDifference(
        f"{unique}index {index.name} on {table} ({_columns_of(index)}): {_where(kind)}",
        (Key("index", table, name), Key("constraint", table, index.name or "")),
    )


def _constraint(kind: str, constraint: Any) -> ModelDifference:
    table = _table_of(constraint)
    label = _CONSTRAINT_KINDS.get(type(constraint).__name__, "constraint")
    name = constraint.name or ""
    return ModelDifference(
        f"{label} {name or '(unnamed)'} on {table} ({_columns_of(constraint)}): {_where(kind)}",
        (Key("constraint", table, name), Key("index", table, name)),
    )


def _modified(kind: str, entry: tuple) -> ModelDifference:
    _, schema_name, tname, cname, _existing, in_database, in_models = entry[:7]
    table = _qualified(schema_name, tname)
    return ModelDifference(
        f"column {table}.{cname}: {_MODIFIED.get(kind, kind)} {_text(in_database)} in the"
        f" database, {_text(in_models)} in the models",
        (Key("column", table, cname),),
    )


def describe(entry: tuple) -> ModelDifference:
    """One of Alembic's diff tuples in words, and the schema objects it is about."""
    kind = entry[0]
    if kind in ("add_table", "remove_table", "add_table_comment", "remove_table_comment"):
        return _table(kind, entry[1])
    if kind in ("add_column", "remove_column"):
        return _column(kind, *entry[1:4])
    if kind in ("add_index", "remove_index"):
        return _index(kind, entry[1])
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        return _constraint(kind, entry[1])
    if kind.startswith("modify_") and len(entry) >= 7:
        return _modified(kind, entry)
    return ModelDifference(f"{kind}: {' '.join(str(part) for part in entry[1:])}", ())

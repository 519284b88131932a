"""Schema conventions every component follows, so each one's migrations can spell the same names."""

from __future__ import annotations

import enum

import sqlalchemy as sa

# Constraint and index names the migrations spell out; keep both in sync.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> sa.MetaData:
    """A component's own MetaData (each component is a separate database)."""
    return sa.MetaData(naming_convention=NAMING_CONVENTION)


def enum_by_value(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A PostgreSQL ENUM type named `name` that stores the members' values (not their names)."""
    return sa.Enum(enum_cls, name=name, values_callable=lambda cls: [m.value for m in cls])


def id_column(name: str = "id") -> sa.Column:
    return sa.Column(name, sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def created_at_column(*, index: bool = False) -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), index=index
    )

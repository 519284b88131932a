"""The manager's MetaData and the column helpers its tables share."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ai.backend.common.schema import (  # noqa: F401 (re-exported for the model modules)
    NAMING_CONVENTION,
    created_at_column,
    enum_by_value,
    id_column,
    new_metadata,
)

metadata = new_metadata()


def json_column(name: str, *, nullable: bool = False, default: str | None = "{}") -> sa.Column:
    server_default = sa.text(f"'{default}'::jsonb") if default is not None else None
    return sa.Column(name, postgresql.JSONB, nullable=nullable, server_default=server_default)

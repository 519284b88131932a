"""The account manager's MetaData."""

from __future__ import annotations

from ai.backend.common.schema import (  # noqa: F401 (re-exported for the model modules)
    NAMING_CONVENTION,
    created_at_column,
    enum_by_value,
    id_column,
    new_metadata,
)

metadata = new_metadata()

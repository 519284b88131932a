"""The database's own words for an error: what a report shows after `Database said:`.

SQLAlchemy wraps the driver's exception (`.orig`); the driver's first line is the message
PostgreSQL sent, which is what the user can act on.
"""

from __future__ import annotations

from typing import Optional


def root_cause(error: BaseException) -> BaseException:
    """The driver's exception under SQLAlchemy's wrappers (the error itself when unwrapped)."""
    cause = error
    while getattr(cause, "orig", None) is not None:
        cause = cause.orig
    return cause


def db_error_text(error: BaseException) -> str:
    """The first non-empty line of the database's message (the exception's type when empty)."""
    cause = root_cause(error)
    lines = [line for line in str(cause).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else type(cause).__name__


def sqlstate(error: BaseException) -> Optional[str]:
    """PostgreSQL's SQLSTATE of the error (e.g. `23503` for a foreign key violation), if any."""
    return getattr(root_cause(error), "sqlstate", None)

"""The account manager's database schema: every table registers itself on `metadata`.

The schema at the head of `alembic/versions/` must equal these tables (a test checks it with
Alembic's autogenerate comparison).
"""

from .application import applications, association_applications_users, login_sessions
from .base import NAMING_CONVENTION, metadata
from .user import UserRole, UserStatus, user_keypairs, users

__all__ = [
    "NAMING_CONVENTION",
    "UserRole",
    "UserStatus",
    "applications",
    "association_applications_users",
    "login_sessions",
    "metadata",
    "user_keypairs",
    "users",
]

"""The app proxy's database schema: every table registers itself on `metadata`.

The schema at the head of `alembic/versions/` must equal these tables (a test checks it with
Alembic's autogenerate comparison).
"""

from .base import NAMING_CONVENTION, metadata
from .circuit import AppMode, ProxyProtocol, circuits, endpoints, tokens
from .worker import FrontendMode, WorkerStatus, worker_app_filters, workers

__all__ = [
    "NAMING_CONVENTION",
    "AppMode",
    "FrontendMode",
    "ProxyProtocol",
    "WorkerStatus",
    "circuits",
    "endpoints",
    "metadata",
    "tokens",
    "worker_app_filters",
    "workers",
]

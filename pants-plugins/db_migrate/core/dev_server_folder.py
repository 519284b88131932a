"""Which server is this checkout's development server: the one whose data folder is ours.

Read the same way by the runner (before it uses or starts the server) and by pantsd (before it
answers a plain read itself), so the two never disagree about whose server a port belongs to.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

DEFAULT_DIR = ".dev-postgres"


def dev_server_dir(buildroot: str, configured: str) -> Path:
    """`[db-migrations].dev_server_dir` (relative to the build root, or absolute)."""
    folder = Path(configured or DEFAULT_DIR)
    return folder if folder.is_absolute() else Path(buildroot) / folder


def pgdata(buildroot: str, configured: str) -> Path:
    """The server's own data folder (PGDATA), inside the development server's folder."""
    return dev_server_dir(buildroot, configured) / "data"


def data_directory(conn) -> Optional[str]:
    """The data folder of the server `conn` (a psycopg connection) is connected to (None: the
    user may not read it)."""
    import psycopg

    try:
        return conn.execute("SHOW data_directory").fetchone()[0]
    except psycopg.errors.InsufficientPrivilege:
        return None


def same_folder(theirs: str, ours: Path) -> bool:
    try:
        return os.path.samefile(theirs, ours)
    except OSError:  # one of them does not exist here
        return os.path.realpath(theirs) == os.path.realpath(ours)

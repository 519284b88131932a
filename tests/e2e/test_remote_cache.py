"""Two clones sharing `db-verify`, `lint` and snapshot results through a real remote cache
(BuildGrid).

Clone A, with an empty local cache, runs `db-verify ::` and `lint ::` and writes every result to
the server; clone B, another directory with an empty local cache of its own, runs the same and
gets every verification and history check from the server: no process of either runs (hence no
PostgreSQL starts), and the reports are A's. A's `db-migrate --from-snapshot` builds the manager's
snapshot; B's loads it from the server, no replay running. With the server gone, Pants warns and runs locally.
Nothing the server stores holds a password, a URL or a host path.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from e2e.buildgrid import BuildGrid, buildgrid
from e2e.conftest import _isolated_copy, _shutdown
from e2e.pants_repo import PantsRepo, find_repo_files

NAMES = ("accountmgr", "appproxy", "manager")
PLANTED_ENV = "planted-env-secret-91c2"
PLANTED_INI = "planted-ini-secret-7f3a"  # clone A's ini password
PLANTED_INI_B = "planted-ini-secret-b-20e5"  # clone B's: another developer's
DEV_PASSWORD = "develove"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BuildGrid]:
    with buildgrid(find_repo_files() / "tests.e2e" / "bgd.pex", tmp_path / "buildgrid") as bg:
        yield bg


def _clone(directory: Path, server: BuildGrid, password: str) -> PantsRepo:
    """A clone whose appproxy ini has a password of its own (and every ini a dev port of its
    own): two developers' inis differ only in their URLs, which no cache key may hold."""
    copy = _isolated_copy(directory / "repo")
    ini = copy.root / "alembic-appproxy.ini"
    ini.write_text(ini.read_text().replace(DEV_PASSWORD, password))
    server.configure(copy.root / "pants.toml")
    return copy


def _env(directory: Path) -> dict:
    """An empty local cache of the clone's own, and a URL variable db-verify must never read."""
    return {
        "PANTS_LOCAL_STORE_DIR": str(directory / "lmdb_store"),
        "MANAGER_DB_URL": f"postgresql+psycopg://postgres:{PLANTED_ENV}@127.0.0.1:9/backend",
    }


def _reports(stdout: str) -> dict:
    return {
        name: stdout[stdout.index(f"Component: {name}") :].split("\n\nTime:")[0] for name in NAMES
    }


KEPT = re.compile(r"Preserving local process execution dir `?(/\S+?)`? for (.*)")


COMPILE = "Compile "  # "Compile 6 revision files of accountmgr": one group per component here
OURS = ("Verify ", COMPILE, "migration-safety ", "Snapshot ")
SECRETS = (DEV_PASSWORD, PLANTED_INI, PLANTED_INI_B, PLANTED_ENV)


def _files_containing(root: Path, needle: bytes, limit: int = 0) -> list:
    """The files under root holding needle (with a limit: of those up to `limit` bytes)."""
    return [
        p
        for p in root.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and (not limit or p.stat().st_size <= limit)
        and needle in p.read_bytes()
    ]


def _ran_processes(result) -> list:
    """Descriptions of the processes that ran locally (`--keep-sandboxes=always` names each).

    Each sandbox of ours is what its cache key is made of: none may hold a password (or a URL
    at all: the dev port differs per clone). Files over 4 MB (the lockfile's wheels in the
    venv pex) are not read. The kept sandboxes are deleted."""
    found = KEPT.findall(result.stderr)
    for sandbox, description in found:
        if description.startswith(OURS):
            for secret in SECRETS:
                leaked = _files_containing(Path(sandbox), secret.encode(), 4 << 20)
                assert leaked == [], (description, secret, leaked)
        shutil.rmtree(sandbox, ignore_errors=True)
    return [description for _, description in found]


def _ours(descriptions: list, prefix: str) -> list:
    return [d for d in descriptions if d.startswith(prefix)]


def _load_snapshot(clone: PantsRepo, directory: Path, db, keep: str):
    """`db-migrate --from-snapshot` of the manager into `db`, a real database this time."""
    env = {**_env(directory), "MANAGER_DB_URL": db.url}
    return clone.run(keep, "db-migrate", "--from-snapshot", "src/ai/backend/manager::", env=env)


def test_a_second_clone_gets_every_result_from_the_remote_cache(tmp_path, server, new_database):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a, b = _clone(a_dir, server, PLANTED_INI), _clone(b_dir, server, PLANTED_INI_B)
    try:
        keep = "--keep-sandboxes=always"
        verify_a = a.run(keep, "db-verify", "::", env=_env(a_dir))
        assert verify_a.returncode == 0, verify_a
        assert verify_a.stdout.count("throwaway PostgreSQL 18") == 3, verify_a
        assert len(_ours(_ran_processes(verify_a), "Verify ")) == 3, verify_a
        lint_a = a.run(keep, "lint", "::", env=_env(a_dir))
        assert lint_a.returncode == 0, lint_a
        ran_a = _ran_processes(lint_a)
        compiled = _ours(ran_a, COMPILE)
        assert len(compiled) == 3, lint_a
        assert len(_ours(ran_a, "migration-safety ")) >= 3, lint_a  # one per revision

        verify_b = b.run(keep, "--stats-log", "db-verify", "::", env=_env(b_dir))
        assert verify_b.returncode == 0, verify_b
        for name in NAMES:
            assert f"{name}: verified before with exactly these inputs (cached remotely)" in (
                verify_b.stdout
            ), verify_b
        assert "throwaway PostgreSQL 18" not in verify_b.stdout
        assert not [d for d in _ran_processes(verify_b) if "Verify " in d], verify_b
        assert _reports(verify_b.stdout) == _reports(verify_a.stdout)

        # B's inis differ from A's in their URLs only: every check of ours comes from the
        # server (ours wait for its answer; ruff's and Black's may race it, so count hits too).
        lint_b = b.run(keep, "--stats-log", "lint", "::", env=_env(b_dir))
        assert lint_b.returncode == 0, lint_b
        assert [d for d in _ran_processes(lint_b) if d.startswith(OURS)] == [], lint_b
        hits = re.search(r"remote_cache_requests_cached: (\d+)", lint_b.output)
        assert hits and int(hits.group(1)) >= len(compiled) + 2, lint_b
        for name in NAMES:
            line = re.search(rf"(?m)^{name}: \d+ revisions, single head \w+", lint_a.output)
            assert line and line.group(0) in lint_b.output, lint_b

        # The snapshot travels too: A's replay built it, B loads it without any replay running.
        loaded_a, loaded_b = new_database(), new_database()
        snapshot_a = _load_snapshot(a, a_dir, loaded_a, keep)
        assert snapshot_a.returncode == 0, snapshot_a
        assert len(_ours(_ran_processes(snapshot_a), "Snapshot manager")) == 1, snapshot_a
        snapshot_b = _load_snapshot(b, b_dir, loaded_b, keep)
        assert snapshot_b.returncode == 0, snapshot_b
        assert "Snapshot: cached remotely (no replay)" in snapshot_b.stdout, snapshot_b
        assert _ours(_ran_processes(snapshot_b), "Snapshot ") == [], snapshot_b
        assert loaded_b.versions("alembic_version") == loaded_a.versions("alembic_version")
        assert loaded_b.tables() == loaded_a.tables()

        # Nothing the server holds carries a password, a URL of ours or a host path.
        for secret in (*SECRETS, loaded_a.server.password, str(a.root), str(b.root)):
            assert _files_containing(server.cas, secret.encode()) == [], secret
        assert len(list(server.cas.rglob("*"))) > 10  # it did store results
        # Locally, the URL variable never reached Pants' store, and its process cache and trees
        # hold no password. The ini's password is in its blob store only as the ini itself (Pants
        # snapshots every workspace file it reads); no sandbox above held it.
        for local in (a_dir / "lmdb_store", b_dir / "lmdb_store"):
            assert _files_containing(local, PLANTED_ENV.encode()) == []
            for secret in SECRETS:
                for store in ("cache", "directories"):
                    assert _files_containing(local / store, secret.encode()) == [], secret

        # The server gone: Pants warns and runs locally, and the run still succeeds.
        server.stop()
        path = next((a.root / "src/ai/backend/appproxy/models/alembic/versions").glob("*.py"))
        path.write_text(path.read_text() + "\n# reviewed\n")
        offline = a.run("db-verify", "::", env=_env(a_dir))
        assert offline.returncode == 0, offline
        assert "appproxy: throwaway PostgreSQL 18" in offline.stdout, offline
        assert re.search(r"\[WARN\].*remote", offline.stderr, re.I | re.S), offline
    finally:
        _shutdown(a)
        _shutdown(b)

"""`db-verify` cached by content like `pants test`, and only what changed, as users type it.

Each test works in a repo copy of its own with a local cache of its own (`PANTS_LOCAL_STORE_DIR`),
so "cold" really is cold, whatever earlier runs on this machine left in ~/.cache/pants.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from e2e.conftest import COMPONENTS
from e2e.conftest import add_revision as write_revision
from e2e.test_db_verify import BROKEN_DOWNGRADE, FULL_DOWNGRADE, add_model_column, add_revision

NAMES = ("accountmgr", "appproxy", "manager")
ACCOUNTMGR_HEAD_DIR = COMPONENTS["accountmgr"][0] + "/versions"
CACHED = re.compile(r"^(\w+): verified before with exactly these inputs \(([^)]+)\)", re.M)


def ran(result) -> set:
    """The components whose verification ran (started its own PostgreSQL) in this run."""
    return set(re.findall(r"^(\w+): throwaway PostgreSQL \S+ up in", result.stdout, re.M))


def cached(result) -> dict:
    """component -> where its replayed result came from (`cached locally`, ...)."""
    return dict(CACHED.findall(result.stdout))


@pytest.fixture
def own_cache(tmp_path) -> dict:
    return {"PANTS_LOCAL_STORE_DIR": str(tmp_path / "lmdb_store")}


def _append_comment(repo, relpath: str, text: str) -> None:
    repo.write(relpath, repo.read(relpath) + f"\n# {text}\n")


def _one_revision_file(repo, component: str) -> str:
    directory = repo.root / COMPONENTS[component][0] / "versions"
    path = sorted(directory.glob("*.py"))[0]
    return str(path.relative_to(repo.root))


def test_unchanged_inputs_replay_the_result_and_one_edit_reruns_one_component(
    private_repo, histories, own_cache
):
    cold = private_repo.run("db-verify", "::", env=own_cache)
    assert cold.returncode == 0, cold
    assert ran(cold) == set(NAMES) and cached(cold) == {}

    # Nothing changed (a URL variable set or not is no input): replayed, no PostgreSQL started.
    url = {"MANAGER_DB_URL": "postgresql+psycopg://u:pw@127.0.0.1:9/db", **own_cache}
    warm = private_repo.run("db-verify", "::", env=url)
    assert warm.returncode == 0, warm
    assert ran(warm) == set() and set(cached(warm)) == set(NAMES), warm
    assert "Starting: Verify" not in warm.stderr
    assert warm.stdout.count("✅ Verification successful") == 3
    assert "accountmgr verified (6 revisions, cached" in warm.stdout
    # Without pantsd's memory: from the local cache on disk.
    disk = private_repo.run("--no-pantsd", "db-verify", "::", env=own_cache)
    assert disk.returncode == 0, disk
    assert cached(disk) == {name: "cached locally" for name in NAMES}, disk
    # The replayed report is the one the run produced.
    for name in NAMES:
        report = cold.stdout[cold.stdout.index(f"Component: {name}") :].split("\n\n")[0]
        assert report in disk.stdout

    # One revision file of one component edited: only that component runs again.
    _append_comment(private_repo, _one_revision_file(private_repo, "appproxy"), "reviewed")
    edited = private_repo.run("db-verify", "::", env=own_cache)
    assert edited.returncode == 0, edited
    assert ran(edited) == {"appproxy"} and set(cached(edited)) == {"accountmgr", "manager"}

    # A verify option is an input too; --force runs everything again.
    first = histories["manager"].ordered()[0]
    skipped = private_repo.run("db-verify", f"--skip={first}", "::", env=own_cache)
    assert ran(skipped) == {"manager"}, skipped
    forced = private_repo.run("db-verify", "--force", "::", env=own_cache)
    assert forced.returncode == 0 and ran(forced) == set(NAMES), forced


def test_a_failure_is_not_cached_and_the_fix_reruns(private_repo, histories, own_cache):
    path = add_revision(private_repo, histories, BROKEN_DOWNGRADE)
    add_model_column(private_repo)  # a model edit: accountmgr's input changes
    accountmgr = "src/ai/backend/accountmgr::"
    for attempt in range(2):  # the second run is no replay of the first failure
        failed = private_repo.run("db-verify", accountmgr, env=own_cache)
        assert failed.returncode == 1, failed
        assert ran(failed) == {"accountmgr"}, (attempt, failed)
        assert "❌ Error: Downgrade of ffff00000001 does not restore the schema" in failed.stderr
        assert "(cached" not in failed.output

    fixed_text = private_repo.read(path).replace(BROKEN_DOWNGRADE, FULL_DOWNGRADE)
    private_repo.write(path, fixed_text)
    fixed = private_repo.run("db-verify", accountmgr, env=own_cache)
    assert fixed.returncode == 0, fixed
    assert ran(fixed) == {"accountmgr"}
    again = private_repo.run("db-verify", accountmgr, env=own_cache)
    assert ran(again) == set() and "accountmgr" in cached(again), again


def test_a_verification_killed_from_outside_says_what_was_killed_and_reruns(
    private_repo, histories, own_cache
):
    """The -9 flake: another test SIGKILLed every runner on the machine. Such a death is named
    (signal, how long, the last line, who sends SIGKILL), never a bare -9, and never cached."""
    appproxy = "src/ai/backend/appproxy::"
    # appproxy's round trip ends within a second of its PostgreSQL coming up: a revision that
    # waits keeps the runner alive where the kill lands.
    slow = "SELECT pg_sleep(4)"
    head = histories["appproxy"].head
    write_revision(private_repo, "appproxy", "c0ffee5100e0", head, "wait", f"op.execute({slow!r})")
    assert private_repo.run("lint", "--only=alembic-history", appproxy).returncode == 0  # pantsd
    proc = subprocess.Popen(
        ["./pants", "db-verify", "--force", appproxy],
        cwd=private_repo.root,
        env={**private_repo.base_env(), **own_cache},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 600
    sandbox = None
    while sandbox is None and time.monotonic() < deadline and proc.poll() is None:
        sandbox = _sandbox_of(private_repo.runner_pids(proc.pid))
        time.sleep(0.2)
    assert sandbox, proc.communicate()
    # Into its work: its throwaway PostgreSQL up (in its sandbox), revisions running.
    while not list(sandbox.glob(".pg-*/data/postmaster.pid")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    assert _kill_all(private_repo.runner_pids(proc.pid)), "the runner ended before it was killed"
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, (stdout, stderr)
    assert "appproxy: the verification process was killed by SIGKILL" in stderr, stderr
    assert "killed by SIGKILL (signal 9) after" in stderr and "Its last line" in stderr, stderr
    assert "exited with -9" not in stderr
    assert "pants db-verify --force src/ai/backend/appproxy/models/alembic:migrations" in stderr

    again = private_repo.run("db-verify", appproxy, env=own_cache)
    assert again.returncode == 0 and ran(again) == {"appproxy"}, again


def _sandbox_of(pids) -> Path | None:
    """The working directory of the first runner still alive: its sandbox."""
    for pid in pids:
        try:
            return Path(os.readlink(f"/proc/{pid}/cwd"))
        except FileNotFoundError:
            continue
    return None


def _kill_all(pids) -> int:
    """SIGKILL each pid still alive, counting the kills: the listing is a snapshot, and a pid in
    it may already have ended (a short-lived fork shares the runner's command line)."""
    killed = 0
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            continue
    return killed


# -- only what changed: --changed-since in a real git repository --------------------------------


def _git(repo, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.invalid", *args],
        cwd=repo.root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def git_repo(private_repo):
    """The repo copy as a git repository whose `base` branch is the shared branch (origin/main)."""
    _git(private_repo, "init", "-q", "-b", "work")
    _git(private_repo, "add", "-A")
    _git(private_repo, "commit", "-q", "-m", "base")
    _git(private_repo, "branch", "base")
    return private_repo


CHANGED = ("--changed-since=base", "--changed-dependents=transitive")


def _selected(result) -> tuple:
    match = re.search(r"^db-verify: ([\w, ]+) \(", result.stdout, re.M)
    return tuple(match.group(1).split(", ")) if match else ()


def _reset(repo) -> None:
    _git(repo, "checkout", "-q", "--", ".")


def test_changed_since_selects_exactly_the_components_a_change_reaches(git_repo, own_cache):
    # Nothing changed: every goal is a quiet no-op (and db-migrate starts no server).
    for goal in ("db-verify", "db-status", "db-migrate", "db-rebase"):
        nothing = git_repo.run(*CHANGED, goal, env=own_cache)
        assert nothing.returncode == 0, nothing
        assert nothing.stdout.strip() == "" and "Error" not in nothing.output, nothing
    assert not (git_repo.root / ".dev-postgres").exists()

    cases = [
        ("src/ai/backend/common/schema.py", NAMES),  # a shared module every model imports
        ("src/ai/backend/accountmgr/models/user.py", ("accountmgr",)),
        (_one_revision_file(git_repo, "appproxy"), ("appproxy",)),
        ("src/ai/backend/manager/models/alembic/env.py", ("manager",)),
        ("pyproject.toml", ()),  # owned by no target
    ]
    for relpath, expected in cases:
        _append_comment(git_repo, relpath, "changed on this branch")
        result = git_repo.run(*CHANGED, "db-verify", env=own_cache)
        assert result.returncode == 0, (relpath, result)
        assert _selected(result) == expected, (relpath, result)
        assert "Error" not in result.output
        _reset(git_repo)

    # Committed on the branch counts too, and `lint` (the alembic-history checks) selects the same.
    _append_comment(git_repo, "src/ai/backend/accountmgr/models/user.py", "committed")
    _git(git_repo, "commit", "-q", "-am", "edit a model")
    lint = git_repo.run(*CHANGED, "lint", "--only=alembic-history", env=own_cache)
    assert lint.returncode == 0, lint
    assert "alembic-history succeeded" in lint.output, lint
    assert re.search(r"(?m)^accountmgr: 6 revisions, single head", lint.output), lint
    assert not re.search(r"(?m)^(manager|appproxy): \d+ revisions", lint.output), lint
    checked = git_repo.run(
        *CHANGED, "--filter-target-type=alembic_migrations", "list", env=own_cache
    )
    assert checked.stdout.split() == ["src/ai/backend/accountmgr/models/alembic:migrations"]

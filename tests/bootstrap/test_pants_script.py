"""`./pants` bootstraps Pants by itself: clear errors without CPython 3.9, safe racing first runs,
and a half-built cache (a killed first run) is rebuilt."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from e2e.pants_repo import find_repo_files

PANTS_VERSION = "2.17.1"


def run_pants(cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    root = find_repo_files()
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PANTS_", "PEX_", "_PANTS"))},
        "PANTS_BOOTSTRAP_CACHE_DIR": str(cache),
        "PANTS_PANTSD": "false",  # never leave a daemon behind in the test sandbox
        **env,
    }
    return subprocess.run(
        [str(root / "pants"), *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_no_python39_is_a_clear_error(tmp_path: Path) -> None:
    result = run_pants(
        tmp_path / "cache", "--version", PATH="/usr/bin:/bin", PYENV_ROOT=str(tmp_path / "no-pyenv")
    )
    assert result.returncode != 0
    assert "❌ Error: Pants 2.17.1 needs CPython 3.9, and none was found" in result.stderr
    assert "pyenv install 3.9" in result.stderr and "PANTS_PYTHON" in result.stderr
    assert "Traceback" not in result.stderr

    wrong = run_pants(tmp_path / "cache", "--version", PANTS_PYTHON="/bin/sh")
    assert wrong.returncode != 0 and "is not a CPython 3.9" in wrong.stderr


def test_racing_first_runs_over_a_half_built_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    half_built = cache / f"pants-{PANTS_VERSION}-pex-2.1.137"
    (half_built / "venv" / "bin").mkdir(parents=True)  # what a killed first run leaves: no COMPLETE

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run_pants(cache, "--version"), range(2)))
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip() == PANTS_VERSION
    assert (half_built / "COMPLETE").is_file()
    assert (half_built / "pex").is_file() and "|linux_" in (half_built / "bundle.env").read_text()
    assert not list(cache.glob(".building.*")) and not list(cache.glob(".stale.*"))

    # Once built, the script reuses it.
    again = run_pants(cache, "--version")
    assert again.returncode == 0 and again.stdout.strip() == PANTS_VERSION
    assert "Bootstrapping" not in again.stderr

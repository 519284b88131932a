"""`./pants` bootstraps Pants by itself: clear errors without CPython 3.9, safe racing first runs,
a half-built cache (a killed first run) is rebuilt, and pants.toml's plugins come with the venv
(no `Resolving plugins` at each fresh clone's start; another list, another venv)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from e2e.pants_repo import find_repo_files

PANTS_VERSION = "2.17.1"
# The bundle's name ends in a hash of the plugin list; the tests find it rather than compute it.
BUNDLE_GLOB = f"pants-{PANTS_VERSION}-pex-2.1.137-plugins-*"


def _env(cache: Path, env: dict) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PANTS_", "PEX_", "_PANTS"))},
        "PANTS_BOOTSTRAP_CACHE_DIR": str(cache),
        "PANTS_PANTSD": "false",  # never leave a daemon behind in the test sandbox
        **env,
    }


def run_pants(
    cache: Path, *args: str, root: Path | None = None, **env: str
) -> subprocess.CompletedProcess:
    root = root or find_repo_files()
    return subprocess.run(
        [str(root / "pants"), *args],
        cwd=root,
        env=_env(cache, env),
        capture_output=True,
        text=True,
        timeout=900,
    )


def pants_environ(cache: Path, *args: str, **env: str) -> tuple[dict, subprocess.CompletedProcess]:
    """Run `./pants` and read the environment Pants itself runs with (the script execs it), from
    /proc while it runs: what the script exported, not what the test passed."""
    root = find_repo_files()
    proc = subprocess.Popen(
        [str(root / "pants"), *args],
        cwd=root,
        env=_env(cache, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: dict = {}
    while proc.poll() is None and not seen:
        try:
            raw = Path(f"/proc/{proc.pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        except OSError:
            break
        if b"-m\0pants" in cmdline:
            seen = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=900)
    assert seen, f"never saw Pants run: {stderr[-3000:]}"
    return seen, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


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


def only_bundle(cache: Path) -> Path:
    """The one venv bundle in cache (its name is found, not computed, so the test does not
    restate the script's hashing)."""
    found = sorted(path for path in cache.glob(BUNDLE_GLOB) if path.is_dir())
    assert len(found) == 1, found
    return found[0]


def venv_version(bundle: Path, module: str) -> str:
    """What the bundle's Pants would import: its venv's Python, not this test's."""
    probe = f"import {module}; print({module}.__version__)"
    result = subprocess.run(
        [str(bundle / "venv" / "bin" / "python"), "-c", probe], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def pinned(toml: str, project: str) -> str:
    """The version pants.toml's plugins list pins project at."""
    plugins = re.search(r"^plugins\s*=\s*\[(.*?)\]", toml, re.MULTILINE | re.DOTALL)
    assert plugins, "no plugins = [...] in pants.toml"
    version = re.search(rf'"{project}==([^"]+)"', plugins.group(1), re.IGNORECASE)
    assert version, f"pants.toml's plugins pin no {project}"
    return version.group(1)


def test_racing_first_runs_over_a_half_built_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = run_pants(cache, "--version")
    assert first.returncode == 0, first.stderr[-3000:]
    half_built = only_bundle(cache)
    shutil.rmtree(half_built)
    (half_built / "venv" / "bin").mkdir(parents=True)  # what a killed first run leaves: no COMPLETE

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run_pants(cache, "--version"), range(2)))
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip() == PANTS_VERSION
    assert only_bundle(cache) == half_built and (half_built / "COMPLETE").is_file()
    assert (half_built / "pex").is_file() and "|linux_" in (half_built / "bundle.env").read_text()
    assert not list(cache.glob(".building.*")) and not list(cache.glob(".stale.*"))

    # Once built, the script reuses it.
    again = run_pants(cache, "--version")
    assert again.returncode == 0 and again.stdout.strip() == PANTS_VERSION
    assert "Bootstrapping" not in again.stderr


def test_plugins_come_with_the_venv(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh_clone = {"PANTS_LOCAL_STORE_DIR": str(tmp_path / "store")}  # nothing cached locally
    environ, result = pants_environ(cache, "--no-pantsd", "-ldebug", "--version", **fresh_clone)
    assert result.returncode == 0, result.stderr[-3000:]
    # Fewer glibc arenas for the engine's threads (docs/benchmarks.md: ~200 MB of peak memory).
    assert environ.get("MALLOC_ARENA_MAX") == "2"
    assert result.stdout.strip() == PANTS_VERSION
    assert "Resolving plugins" not in result.stderr, result.stderr[-3000:]

    toml = (find_repo_files() / "pants.toml").read_text()
    bundle = only_bundle(cache)
    assert venv_version(bundle, "alembic") == pinned(toml, "alembic")
    assert venv_version(bundle, "sqlalchemy") == pinned(toml, "sqlalchemy")

    # A caller's own PANTS_PLUGINS is left alone: Pants resolves that list, as it did before the
    # venv carried the plugins (so the assertion above can see a resolve when there is one).
    alembic = f"alembic=={pinned(toml, 'alembic')}"
    environ, own = pants_environ(
        cache,
        "--no-pantsd",
        "-ldebug",
        "--version",
        PANTS_PLUGINS=f'["{alembic}"]',
        MALLOC_ARENA_MAX="0",
        **fresh_clone,
    )
    assert own.returncode == 0, own.stderr[-3000:]
    assert environ.get("MALLOC_ARENA_MAX") == "0"  # a caller's own setting, too
    assert f"Resolving plugins: {alembic}" in own.stderr


def test_another_plugin_list_builds_another_venv(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert run_pants(cache, "--version").returncode == 0
    original = only_bundle(cache)

    # A copy of what `./pants --version` reads, with one pin changed in pants.toml.
    root = find_repo_files()
    edited = tmp_path / "edited"
    shutil.copytree(root / "pants-plugins", edited / "pants-plugins")
    shutil.copy2(root / "pants", edited / "pants")
    toml = (root / "pants.toml").read_text()
    older = "1.13.3"
    assert pinned(toml, "alembic") != older
    (edited / "pants.toml").write_text(
        toml.replace(f'"alembic=={pinned(toml, "alembic")}"', f'"alembic=={older}"')
    )

    rebuilt = run_pants(cache, "--version", root=edited)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert "Bootstrapping" in rebuilt.stderr
    bundles = sorted(path for path in cache.glob(BUNDLE_GLOB) if path.is_dir())
    assert len(bundles) == 2 and original in bundles, bundles
    (other,) = set(bundles) - {original}
    assert venv_version(other, "alembic") == older
    assert venv_version(original, "alembic") == pinned(toml, "alembic")

    # The unchanged list still names the first venv.
    again = run_pants(cache, "--version")
    assert again.returncode == 0 and "Bootstrapping" not in again.stderr

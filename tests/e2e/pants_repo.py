"""A private copy of this repository in which tests run `./pants` the way a user does.

The test sandbox holds the repository's files (see the `repo` target in the root BUILD);
we copy them to a temporary directory, which becomes a build root of its own with its own
pantsd, so tests never disturb (or depend on) the developer's checkout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

REPO_MARKERS = ("pants", "pants.toml")
# Also what Pants puts in a test sandbox next to the repo's files: its append-only caches (symlinks
# to the whole named cache) and the test's own PEXes.
IGNORED = shutil.ignore_patterns(
    ".git",
    ".pants.d",
    ".pids",
    "dist",
    "__pycache__",
    ".dev-postgres",
    ".db-backups",
    ".work",
    ".cache",
    ".python-build-standalone",
    "*.pex",
    ".hypothesis",
)


def find_repo_files(start: Path | None = None) -> Path:
    """The directory holding the repository's files: the sandbox root when run by Pants."""
    here = (start or Path(__file__)).resolve()
    for candidate in [here, *here.parents]:
        if all((candidate / marker).exists() for marker in REPO_MARKERS):
            return candidate
    raise RuntimeError(f"no pants.toml above {here}: the test needs //:repo")


@dataclass
class PantsResult:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"./pants {' '.join(self.args)} -> {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def _stat_fields(pid: int) -> Optional[list]:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...), None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _parent(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else 0


def _cpu_ticks(pid: int) -> Optional[int]:
    """User plus system CPU time of `pid` in clock ticks, or None when it is gone."""
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else None


def _descends_from(pid: int, ancestors: set) -> bool:
    while pid > 1:
        if pid in ancestors:
            return True
        pid = _parent(pid)
    return False


def cmdline(pid: int) -> str:
    """A process's command line from /proc ('' when it is gone or has not exec'd yet)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class PantsRepo:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def copy_of(cls, source: Path, destination: Path) -> PantsRepo:
        shutil.copytree(source, destination, ignore=IGNORED, dirs_exist_ok=True, symlinks=False)
        (destination / "pants").chmod(0o755)
        return cls.at(destination)

    @classmethod
    def at(cls, root: Path) -> PantsRepo:
        """A build root a test made (a copy, or a repository of its own) whose pantsd must not
        outlive the test."""
        repo = cls(root)
        repo._start_watchdog()
        return repo

    def _start_watchdog(self) -> None:
        """Stop this copy's pantsd when the test process dies without cleaning up (Pants may kill
        a test run it restarts; a pantsd per copy must not outlive it). For 30 s after, by pidfile
        and by title: a pantsd that was starting when the test died writes its pidfile later
        (two such pantsds outlived a run restarted by an edit)."""
        script = (
            "import os, signal, sys, time, glob\n"
            "parent, root = int(sys.argv[1]), sys.argv[2]\n"
            "while True:\n"
            "    try:\n"
            "        os.kill(parent, 0)\n"
            "    except ProcessLookupError:\n"
            "        break\n"
            "    time.sleep(1)\n"
            "title = f'pantsd [{root}]'\n"
            "for _ in range(30):  # a pantsd still starting has no pidfile yet: look again\n"
            "    pids, kill = set(), set()\n"
            "    for pidfile in glob.glob(os.path.join(root, '.pids', '*', 'pantsd', 'pid')):\n"
            "        try:\n"
            "            pids.add(open(pidfile).read().strip())\n"
            "        except OSError:\n"
            "            pass\n"
            "    for entry in pids | set(filter(str.isdigit, os.listdir('/proc'))):\n"
            "        try:\n"
            "            cmd = open(f'/proc/{entry}/cmdline', 'rb').read()\n"
            "        except OSError:\n"
            "            continue\n"
            "        cmd = cmd.replace(b'\\0', b' ').decode(errors='replace').strip()\n"
            "        if cmd == title or (entry in pids and cmd.startswith('pantsd')):\n"
            "            kill.add(int(entry))\n"
            "    for pid in kill:\n"
            "        try:\n"
            "            os.kill(pid, signal.SIGTERM)\n"
            "        except OSError:\n"
            "            pass\n"
            "    time.sleep(1)\n"
        )
        subprocess.Popen(
            [sys.executable, "-c", script, str(os.getpid()), str(self.root)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def base_env(self) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("PANTS_", "PEX_", "_PANTS", "MANAGER_DB", "ACCOUNTMGR_DB", "APPPROXY_DB")
            )
            and k not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        # The ./pants script's own cache: shared with the outer run, so copies need no bootstrap.
        if "PANTS_BOOTSTRAP_CACHE_DIR" in os.environ:
            env["PANTS_BOOTSTRAP_CACHE_DIR"] = os.environ["PANTS_BOOTSTRAP_CACHE_DIR"]
        env["NO_COLOR"] = "1"
        env["PANTS_COLORS"] = "false"
        return env

    def run(
        self, *args: str, env: Optional[Mapping[str, str]] = None, timeout: float = 900
    ) -> PantsResult:
        full_env = self.base_env()
        full_env.update(env or {})
        proc = subprocess.run(
            ["./pants", *args],
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return PantsResult(args, proc.returncode, proc.stdout, proc.stderr)

    def runner_pids(self, client: int) -> Iterator[int]:
        """Pids of this run's migration runners: the venv processes reading our plan file that
        descend from the copy's own pantsd (or from the `./pants` client). Never any other: a runner
        of another test, another checkout or a developer (db-verify's processes read the same plan
        file name) is not ours to kill."""
        ours = {client, *self.pantsd_pids()}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            cmd = cmdline(int(entry))
            if "__db_migrate_plan__.json" in cmd and _descends_from(int(entry), ours):
                yield int(entry)

    def pantsd_pids(self) -> list:
        """The pids this copy's pantsd processes recorded (a pidfile being written is skipped)."""
        pids = []
        for pidfile in self.root.glob(".pids/*/pantsd/pid"):
            with contextlib.suppress(OSError, ValueError):
                pids.append(int(pidfile.read_text().strip()))
        return pids

    def titled_pantsd_pids(self) -> list:
        """Pids of processes titled `pantsd [ROOT]` for this copy: a pantsd whose pidfile was
        being written or replaced when the test ended (one outlived its test by half an hour)."""
        title = f"pantsd [{self.root}]"
        return [
            int(entry)
            for entry in os.listdir("/proc")
            if entry.isdigit() and cmdline(int(entry)).strip() == title
        ]

    def stop_pantsd(self) -> None:
        for pid in dict.fromkeys([*self.pantsd_pids(), *self.titled_pantsd_pids()]):
            try:
                os.kill(pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                continue
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def read(self, relpath: str) -> str:
        return (self.root / relpath).read_text()

    def write(self, relpath: str, text: str) -> None:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.settle()

    def settle(self, quiet_for: float = 0.5, give_up: float = 30.0) -> None:
        """Wait until this copy's pantsd has gone quiet after a file change.

        pantsd's file watcher handles inotify events on a thread of its own, after the write has
        returned; a goal started in that gap reads the file as it was (Pants 2.17 has no barrier
        for it), which on a loaded CI machine made an edited revision look unchanged. Without a
        running pantsd there is nothing to wait for: the next run reads the disk.
        """
        pids = [pid for pid in self.pantsd_pids() if _cpu_ticks(pid) is not None]
        if not pids:
            return
        started = quiet_since = time.monotonic()
        last = sum(_cpu_ticks(pid) or 0 for pid in pids)
        while time.monotonic() - quiet_since < quiet_for and time.monotonic() - started < give_up:
            time.sleep(0.1)
            now = sum(_cpu_ticks(pid) or 0 for pid in pids)
            if now - last > 1:  # more than one clock tick (10 ms) of work in 100 ms
                quiet_since = time.monotonic()
            last = now

"""A BuildGrid server (REAPI: CAS, ByteStream, ActionCache) on a loopback port, for tests and
benchmarks of the remote cache. Disk storage, so what the cache holds can be read back."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

INSTANCE = "main"

CONFIG = """\
server:
  - !channel
    address: "127.0.0.1:{port}"
    insecure-mode: true
storages:
  - !disk-storage &cas
    path: {cas}
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
instances:
  - name: {instance}
    services:
      - !action-cache
        cache: *ac
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
"""

# What the README tells a team to put in pants.toml's [GLOBAL] (the address is their server's).
PANTS_SETTINGS = """\
remote_cache_read = true
remote_cache_write = true
remote_store_address = "grpc://127.0.0.1:{port}"
remote_instance_name = "{instance}"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class BuildGrid:
    port: int
    cas: Path  # the disk storage: one file per blob
    process: subprocess.Popen

    def configure(self, pants_toml: Path) -> None:
        """Point a repo at this server: the settings go into its pants.toml's [GLOBAL] table."""
        text = pants_toml.read_text()
        settings = PANTS_SETTINGS.format(port=self.port, instance=INSTANCE)
        assert "\n[GLOBAL]\n" in "\n" + text, pants_toml
        pants_toml.write_text(
            ("\n" + text).replace("\n[GLOBAL]\n", "\n[GLOBAL]\n" + settings, 1)[1:]
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def buildgrid(bgd: Path, workdir: Path, start_timeout: float = 180) -> Iterator[BuildGrid]:
    """`bgd server start` on a free port with its storage in `workdir`; stopped on exit."""
    port, cas = _free_port(), workdir / "cas"
    cas.mkdir(parents=True)
    config = workdir / "buildgrid.yml"
    config.write_text(CONFIG.format(port=port, cas=cas, instance=INSTANCE))
    log_path = workdir / "buildgrid.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(bgd), "server", "start", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = BuildGrid(port, cas, process)
    try:
        deadline = time.monotonic() + start_timeout  # the first start unpacks the pex
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"BuildGrid did not come up:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield server
    finally:
        server.stop()

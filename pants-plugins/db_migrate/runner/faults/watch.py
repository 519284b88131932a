"""Watch the server while a run holds the migration lock: is it still answering, still the same?

libpq has no read timeout. A statement whose answer never comes (the network went silent, a
firewall forgot the connection, the server hangs) waits forever, with the migration's locks held
on the server. TCP keepalives (`database.network_params`, set on our connections too) notice only a peer
that nobody answers for; a proxy or a load balancer in between answers them. So a thread asks the
lock's session `SELECT 1` every few seconds, and when no answer came for `timeout` seconds, or
the session is gone (so is the lock), it shuts our sockets down: the blocked call fails at once
and the run reports what happened instead of hanging.

It also keeps what the server said on the way (a warning before it went away, its start time),
which `classify` reads to tell a terminated session from a restart or a crash.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Dict, List, Optional, Tuple

import psycopg

# A server going away says why in a warning to every session (`quickdie`): an immediate
# shutdown or a crash of another server process.
_SHUTDOWN_STATES = ("57P01", "57P02")


class ServerWatch:
    """Pings the lock's session; the evidence `classify` needs when a connection fails."""

    def __init__(self, conn: psycopg.Connection, timeout: float) -> None:
        self.timeout = timeout
        self.started_at = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        self.silent_for: Optional[float] = None  # no answer for this long: we cut the sockets
        self.lock_session_error: Optional[BaseException] = None  # the lock's session died
        self.notices: List[Tuple[str, str]] = []  # (sqlstate, message) of shutdown warnings
        self.sessions: Dict[int, str] = {}  # backend pid -> what the session is for
        self._lock_session = conn
        self._connections: List[psycopg.Connection] = []
        self._answered = time.monotonic()
        self._stop = threading.Event()
        self._tripping = threading.Lock()
        self.add(conn, "the session holding the migration lock")
        self._threads = [
            threading.Thread(target=self._ping, name="server-watch-ping", daemon=True),
            threading.Thread(target=self._judge, name="server-watch", daemon=True),
        ]

    def add(self, conn: psycopg.Connection, role: str) -> None:
        """A connection to cut when the server goes silent, and to hear shutdown warnings on."""
        self._connections.append(conn)
        self.sessions[conn.info.backend_pid] = role
        conn.add_notice_handler(self._notice)

    def saw(self, sqlstate: str, words: str = "") -> bool:
        return any(s == sqlstate and words in m for s, m in self.notices)

    def __enter__(self) -> ServerWatch:
        if self.timeout > 0:  # 0: the user turned the watch off
            for thread in self._threads:
                thread.start()
        return self

    def __exit__(self, *exc) -> None:
        """Stop, and wait for a ping in flight: after the block nobody else uses the lock's session
        (a statement there would queue behind the ping, or find it half-failed)."""
        self._stop.set()
        ping = self._threads[0]
        if not ping.is_alive():
            return
        ping.join(self.timeout)
        if ping.is_alive():  # no answer within the timeout: the silence the judge would have cut
            self.silent_for = time.monotonic() - self._answered
            self._cut()
            ping.join(self.timeout)

    def _notice(self, diagnostic) -> None:
        if diagnostic.sqlstate in _SHUTDOWN_STATES:
            self.notices.append((diagnostic.sqlstate, diagnostic.message_primary or ""))

    def _ping(self) -> None:
        interval = min(self.timeout / 3, 5.0)
        while not self._stop.wait(interval):
            try:
                self._lock_session.execute("SELECT 1")
            except psycopg.Error as e:
                if self._lock_session.broken or self._lock_session.closed:
                    self._trip(lock_session_error=e)
                    return
            self._answered = time.monotonic()  # an error is an answer too

    def _judge(self) -> None:
        while not self._stop.wait(0.2):
            quiet = time.monotonic() - self._answered
            if quiet > self.timeout:
                self._trip(silent_for=quiet)
                return

    def _trip(
        self, silent_for: Optional[float] = None, lock_session_error: Optional[BaseException] = None
    ) -> None:
        """Record the first verdict only (the cut fails the other thread's ping too), then cut."""
        with self._tripping:
            if self._stop.is_set():
                return
            self._stop.set()
            self.silent_for, self.lock_session_error = silent_for, lock_session_error
        self._cut()

    def _cut(self) -> None:
        """Shut every watched socket down: whoever waits on one gets an error now."""
        for conn in self._connections:
            if conn.closed:
                continue
            with contextlib.suppress(OSError, psycopg.Error):
                sock = socket.socket(fileno=conn.pgconn.socket)
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                finally:
                    sock.detach()

"""A TCP proxy a test can silence: its connections stay open and bytes stop flowing.

What a client sees when the network between it and PostgreSQL goes quiet (a firewall dropping
packets, a NAT table that forgot the connection, a hung load balancer): no error, no FIN, no RST,
and no answer. TCP keepalives cannot notice it here, since the proxy's kernel answers them; only a
client that expects answers within a bounded time can.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from typing import Iterator, List

_CHUNK = 65536


class SilentProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port` until `go_silent()`."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def go_silent(self) -> None:
        """Stop forwarding, in both directions, on every connection (new ones too); close none."""
        self._flowing.clear()

    def heal(self) -> None:
        """The network is back: the connections that went silent are gone (both ends closed, as
        the peers' kernels would reset them), new ones are forwarded again."""
        with self._lock:
            doomed, self._sockets = self._sockets, []
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.close()
        self._flowing.set()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self.heal()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), name="proxy-pump", daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                ready, _, _ = select.select([source], [], [], 0.2)
                if not ready:
                    continue
                data = source.recv(_CHUNK)
                # Silent: bytes (and a close) are held, never sent and never refused.
                while not self._flowing.wait(0.2):
                    if self._closed.is_set() or source.fileno() < 0:
                        return
                if not data:
                    sink.shutdown(socket.SHUT_WR)
                    return
                sink.sendall(data)
        except OSError:
            return


@contextlib.contextmanager
def silent_proxy(target_port: int) -> Iterator[SilentProxy]:
    proxy = SilentProxy(target_port)
    try:
        yield proxy
    finally:
        proxy.close()

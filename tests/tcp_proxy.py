"""A TCP proxy on 127.0.0.1 in front of the test's PostgreSQL server, for faults between Grafient and
its database: connections closed at once (a server that restarts), or a server that accepts
connections and never answers (`silent`).

Loopback only, bounded: each connection is one pair of threads, and leaving the block closes every
socket."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class TcpProxy:
    """`with TcpProxy(port, refuse_first=1) as proxy: proxy.port`: the first `refuse_first` connections
    are closed as soon as they are accepted; later ones are forwarded to 127.0.0.1:`target_port`.
    `silent`: nothing is forwarded, and nothing is ever answered."""

    def __init__(self, target_port: int | None, *, refuse_first: int = 0, silent: bool = False) -> None:
        self.target_port = target_port
        self.refuse_first = refuse_first
        self.silent = silent
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def __enter__(self) -> TcpProxy:
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._closed.set()
        try:
            # Linux keeps a socket listening while a thread is blocked in its accept(), even once closed:
            # shutdown wakes that accept, so the port refuses connections as soon as the proxy is gone.
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._keep(client)
            with self._lock:
                self.accepted += 1
                number = self.accepted
            if number <= self.refuse_first:
                client.close()
                continue
            if self.silent or self.target_port is None:
                continue  # accepted, and never a byte back
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self._keep(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

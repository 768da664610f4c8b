"""A TCP front for a PostgreSQL socket that can end its connections without a word: the next
bytes a client sends on one of them close it, as a server that went away does before its
goodbye arrives."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator


class QuietProxy:
    def __init__(self, unix_path: str):
        self.unix_path = unix_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.ending: set[socket.socket] = set()  # client sides to close at their next bytes
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.unix_path)
            with self.lock:
                self.accepted += 1
                self.open.add(client)
            threading.Thread(target=self.pipe, args=(client, server, client), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, client), daemon=True).start()

    def pipe(self, source: socket.socket, target: socket.socket, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if source is client and client in self.ending:
                    break  # the server "went away": the client's bytes are never answered
                target.sendall(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def end_quietly(self) -> None:
        """Every connection open now is closed at the client's next bytes, with no goodbye."""
        with self.lock:
            self.ending |= self.open


@contextlib.contextmanager
def quiet_proxy(socket_dir: str, port: int = 5432) -> Iterator[QuietProxy]:
    proxy = QuietProxy(os.path.join(socket_dir, f".s.PGSQL.{port}"))
    try:
        yield proxy
    finally:
        proxy.listener.close()

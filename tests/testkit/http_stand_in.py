"""A stand-in HTTP server on 127.0.0.1 for what cannot exist here (Google's metadata server, its
key publishers, OSV's advisory API): it answers GETs with a function of the path and headers,
POSTs with a function of the path and body, and records them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextlib.contextmanager
def stand_in(
    answer: Callable[[str, dict], bytes], post: Callable[[str, bytes], bytes] | None = None
) -> Iterator[tuple[str, list]]:
    """(base URL, [(path, headers) of each GET, (path, body) of each POST]) while in the block;
    every answer is a 200 with the bytes answer(path, headers) or post(path, body) gives."""
    seen: list = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, dict(self.headers)))
            body = answer(self.path, dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append((self.path, body))
            reply = post(self.path, body) if post else b""
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()

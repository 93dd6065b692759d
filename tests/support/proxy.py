"""A counting HTTP proxy in front of a real server: what a client asked, by method and path."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def counting_proxy(
    target: str, refuse: Callable[[str], bool] = lambda path: False
) -> Iterator[tuple[str, Counter[str]]]:
    """Serve on 127.0.0.1 (a free port), forwarding every request to `target` (http://host:port) and
    counting it as "METHOD /path"; a path `refuse` picks is answered 404, as by a server without it."""
    host, _, port = target.removeprefix("http://").rstrip("/").partition(":")
    counts: Counter[str] = Counter()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            path = self.path.split("?", 1)[0]
            counts[f"{self.command} {path}"] += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if refuse(path):
                self._answer(404, [("Content-Type", "text/plain")], b"Not Found")
                return
            upstream = http.client.HTTPConnection(host, int(port or 80), timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                self._answer(response.status, response.getheaders(), response.read())
            finally:
                upstream.close()

        def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", counts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

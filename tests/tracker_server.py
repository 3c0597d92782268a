"""A webmaster's tracker for postback tests: a real ``http.server`` on 127.0.0.1 (port 0)
that answers from a script of status codes and records every request it gets."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Tracker:
    """``Tracker([500, 500, 200])`` answers 500, 500, then 200 for every later request."""

    def __init__(self, answers: list[int] | None = None, body: bytes = b"ok") -> None:
        self.answers = list(answers or [200])
        self.body = body
        self.requests: list[str] = []  # the raw request targets, in arrival order
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                with tracker._lock:
                    tracker.requests.append(self.path)
                    tracker.headers.append(dict(self.headers))
                    status = tracker.answers.pop(0) if len(tracker.answers) > 1 else tracker.answers[0]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{tracker.port}/elsewhere")
                self.send_header("Content-Length", str(len(tracker.body)))
                self.end_headers()
                self.wfile.write(tracker.body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def queries(self) -> list[dict]:
        return [parse_qs(urlsplit(target).query, keep_blank_values=True) for target in self.requests]

    def __enter__(self) -> Tracker:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

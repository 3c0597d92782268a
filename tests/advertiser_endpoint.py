"""An advertiser's endpoint for lead delivery tests: a real ``http.server`` on 127.0.0.1
(port 0) that answers POSTs from a script and records each request's headers and body."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0  # seconds to wait before answering (longer than the timeout: a timeout)
    headers: tuple[tuple[str, str], ...] = ()  # more headers (a redirect's Location)

    @classmethod
    def decision(cls, decision: str, reason: str | None = None) -> Answer:
        data = {"decision": decision, **({"reason": reason} if reason else {})}
        return cls(200, json.dumps(data).encode())


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Endpoint:
    """``Endpoint([Answer(500), Answer(delay=2), Answer()])`` answers each in turn, then the last."""

    def __init__(self, answers: list[Answer] | None = None) -> None:
        self.answers = list(answers or [Answer()])
        self.received: list[Received] = []
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint._lock:
                    endpoint.received.append(Received(self.path, dict(self.headers), body))
                    answers = endpoint.answers
                    answer = answers.pop(0) if len(answers) > 1 else answers[0]
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    for name, value in answer.headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the caller gave up waiting (a timeout test)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/leads"

    def __enter__(self) -> Endpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

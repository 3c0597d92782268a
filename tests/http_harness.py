"""Real processes and real HTTP for end-to-end tests: a server thread on
127.0.0.1, a small JSON client, the ``flask`` CLI and rq workers as
subprocesses."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent


class LiveServer:
    def __init__(self, app) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@dataclass
class Reply:
    status: int
    headers: dict
    body: object


def call(
    port: int,
    method: str,
    path: str,
    key: str | None = None,
    body: object = None,
    headers: dict | None = None,
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept": "application/json", **(headers or {})}
    payload = None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        parsed = json.loads(raw) if raw and "json" in content_type else raw.decode()
        return Reply(response.status, dict(response.getheaders()), parsed)
    finally:
        connection.close()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def process_env(database_url: str, instance_path: str, redis_url: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        FLASK_APP="wsgi.py",
        EXCHANGE_ENV="development",
        EXCHANGE_INSTANCE_PATH=instance_path,
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def flask_cli(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_worker_burst(env: dict, *queues: str) -> subprocess.CompletedProcess:
    """A real rq worker that processes what is queued, then exits."""
    return subprocess.run(
        [sys.executable, "-m", "exchange.worker", "--burst", *queues],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def available_over_http(port: int, key: str, currency: str = "USD") -> int:
    """The caller's available balance in ``currency``, as ``GET /api/v1/balance`` shows it."""
    reply = call(port, "GET", "/api/v1/balance", key)
    rows = [r for r in reply.body if r["purpose"] == "available" and r["currency"] == currency]
    return rows[0]["available_minor"] if rows else 0


def wait_for(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.1)

"""Click throughput on real services against a bare Flask 302, in one run.

    python bench/clicks.py [--seconds 10] [--workers 4] [--connections 16]

Serves the app with gunicorn on PostgreSQL + Redis (a throwaway database
``lx_bench`` beside EXCHANGE_TEST_DATABASE_URL, Redis db 14), with the click
flusher running, drives ``GET /c/<token>`` with wrk on 127.0.0.1 for a fixed
time, then drives bench/_bare_app.py with the same gunicorn settings. Stops
the flusher gracefully (it drains the buffer) and compares clicks answered
with clicks stored. Prints:

    clicks: rps=<n> baseline_rps=<n> ratio=<r> p99_ms=<n> lost=<n>

Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services_config import TEST_DATABASE_URL  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    database_url = fresh_database("lx_bench")
    with tempfile.TemporaryDirectory() as instance:
        env = {
            **os.environ,
            "EXCHANGE_ENV": "development",
            "EXCHANGE_INSTANCE_PATH": instance,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "FLASK_APP": "wsgi.py",
            # wrk's clicks all come from 127.0.0.1: counted (that cost is measured), never limited
            "LIMIT_CLICKS_PER_ADDRESS": "1000000000 per minute",
        }
        token = prepare(env)
        flusher = subprocess.Popen(
            [sys.executable, "-m", "flask", "clicks", "flush", "--loop"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            flusher.stdout.readline()
            clicks = serve_and_load("wsgi:app", f"/c/{token}?sub1=bench", env, args)
        finally:
            flusher.send_signal(signal.SIGTERM)  # it drains the buffer, then stops
            flusher.wait(timeout=300)
        stored = count_clicks(env)
        baseline = serve_and_load("bench._bare_app:app", "/c/bare", env, args)
    lost = clicks["answered"] - stored
    ratio = clicks["rps"] / baseline["rps"]
    print(
        f"clicks: rps={clicks['rps']:.0f} baseline_rps={baseline['rps']:.0f} ratio={ratio:.2f} "
        f"p99_ms={clicks['p99_ms']:.1f} lost={lost}"
    )


def fresh_database(name: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(TEST_DATABASE_URL)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return server.set(database=name).render_as_string(hide_password=False)


def prepare(env: dict) -> str:
    """Migrate, create an offer and a participation; flush Redis db 14; the link's token."""
    script = """
import redis
from flask_migrate import upgrade
from exchange import create_app
from exchange.extensions import db
from tests.factories import make_join, make_offer, make_user
app = create_app()
with app.app_context():
    upgrade()
    redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()
    print(make_join(make_user("webmaster"), make_offer(make_user("advertiser"))).token)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def count_clicks(env: dict) -> int:
    script = """
from exchange import create_app
from exchange.extensions import db
from sqlalchemy import text
app = create_app()
with app.app_context():
    print(db.session.execute(text("SELECT count(*) FROM clicks")).scalar())
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip().splitlines()[-1])


def serve_and_load(wsgi: str, path: str, env: dict, args) -> dict:
    """Serve ``wsgi`` with gunicorn, warm it up, measure; count 302s from the access log
    (wrk leaves out the responses still in flight when its time is up)."""
    port = free_port()
    with tempfile.NamedTemporaryFile("r", suffix=".log") as access_log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
             "--access-logfile", access_log.name, "--access-logformat", "%(s)s", wsgi],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(port, path)
            run_wrk(port, path, 2, args.connections)  # warm up workers and caches
            measured = run_wrk(port, path, args.seconds, args.connections)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        measured["answered"] = sum(1 for line in access_log if line.strip() == "302")
    return measured


def run_wrk(port: int, path: str, seconds: int, connections: int) -> dict:
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output) or not requests:
        raise SystemExit(f"the server answered something else than redirects:\n{output}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p99_ms": to_ms(re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()),
    }


def to_ms(value_unit: tuple[str, str]) -> float:
    value, unit = float(value_unit[0]), value_unit[1]
    return {"us": value / 1000, "ms": value, "s": value * 1000}[unit]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, path: str) -> None:
    """Until a worker answers ``path`` (the master listens long before its workers
    have imported the app; wrk would count that time against the server)."""
    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    raise SystemExit(f"server on {port} did not start")


if __name__ == "__main__":
    main()

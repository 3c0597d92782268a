"""Readiness on real PostgreSQL and Redis with a real scheduler (docs/operations.md,
"Health"): ``/readyz`` fails while PostgreSQL, Redis or every scheduler is down, or while
the click buffer holds too many clicks, and is ok again once they are back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import make_url

from exchange.extensions import db
from exchange.health import SCHEDULERS_KEY
from exchange.tracking.buffer import BUFFER_KEY, push
from tests.conftest import BACKEND, _build_app
from tests.services_config import TEST_DATABASE_URL
from tests.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
STALE_SECONDS = 2  # a scheduler silent for so long counts as gone (the app's setting here)


@pytest.fixture(autouse=True)
def _on_services():
    assert BACKEND == "services", "PostgreSQL, Redis and rq cron (tests/services)"


@pytest.fixture
def ready_app(app, redis_url, tmp_path):
    """An app on the migrated test database and the test Redis; a few clicks make the
    buffer too full, and a scheduler silent for STALE_SECONDS is gone."""
    built = _build_app(
        make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=False),
        str(tmp_path / "instance"),
        REDIS_URL=redis_url,
        READY_SCHEDULER_STALE_SECONDS=STALE_SECONDS,
        READY_CLICK_BUFFER_MAX=3,
    )
    yield built
    with built.app_context():
        db.engine.dispose()


@pytest.fixture
def scheduler(redis_url):
    """Start real ``rq cron`` schedulers on the test Redis (each waited for until it has
    beaten its heart); all killed at the end."""
    started = []

    def start() -> subprocess.Popen:
        before = redis.Redis.from_url(redis_url).zcard(SCHEDULERS_KEY)
        process = subprocess.Popen(
            [sys.executable, "-m", "rq.cli", "cron", "exchange.rq_cron_config", "--url", redis_url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        _until(lambda: redis.Redis.from_url(redis_url).zcard(SCHEDULERS_KEY) > before, "the scheduler beat")
        return process

    yield start
    for process in started:
        process.kill()
        process.wait(timeout=10)


def test_readyz_needs_a_scheduler_that_beats_and_recovers_when_one_starts(ready_app, scheduler):
    client = ready_app.test_client()
    none_yet = client.get("/readyz")
    first = scheduler()
    running = client.get("/readyz")
    first.send_signal(signal.SIGKILL)  # dies without a word: its last heartbeat goes stale
    first.wait(timeout=10)
    time.sleep(STALE_SECONDS + 0.5)
    killed = client.get("/readyz")
    scheduler()
    back = client.get("/readyz")

    assert none_yet.status_code == 503 and none_yet.get_json()["checks"]["scheduler"] == "failing"
    assert running.status_code == 200
    assert running.get_json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "redis": "ok",
        "scheduler": "ok",
        "click_buffer": "ok",
    }
    assert killed.status_code == 503 and killed.get_json()["checks"]["scheduler"] == "failing"
    assert back.status_code == 200


def test_readyz_fails_while_the_click_buffer_is_too_full(ready_app, redis_url, scheduler):
    scheduler()
    client = ready_app.test_client()
    for number in range(3):  # READY_CLICK_BUFFER_MAX
        push(redis_url, {"click_id": f"c{number}"})
    full = client.get("/readyz")
    redis.Redis.from_url(redis_url).delete(BUFFER_KEY)  # as the flusher empties it
    emptied = client.get("/readyz")

    assert full.status_code == 503
    assert full.get_json()["checks"]["click_buffer"] == "failing"
    assert full.get_json()["checks"]["redis"] == "ok"
    assert emptied.status_code == 200


def test_readyz_fails_while_redis_is_down_and_recovers(app, redis_url, scheduler, tmp_path):
    scheduler()
    redis_port = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs["port"]
    proxy = TcpProxy(redis_port).start()
    database_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=False)
    through_proxy = _build_app(
        database_url,
        str(tmp_path / "instance"),
        REDIS_URL=f"redis://127.0.0.1:{proxy.port}/{redis_url.rsplit('/', 1)[1]}",
        READY_SCHEDULER_STALE_SECONDS=60,
    )
    client = through_proxy.test_client()
    try:
        up = client.get("/readyz")
        proxy.stop()
        down = client.get("/readyz")
        proxy.start()
        again = client.get("/readyz")
    finally:
        proxy.stop()
        with through_proxy.app_context():
            db.engine.dispose()

    assert up.status_code == 200
    assert down.status_code == 503
    assert down.get_json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "redis": "failing",
        "scheduler": "failing",
        "click_buffer": "failing",
    }
    assert again.status_code == 200


def test_readyz_fails_while_postgresql_is_down_and_recovers(app, tmp_path):
    server = make_url(TEST_DATABASE_URL)
    proxy = TcpProxy(server.port or 5432).start()
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=proxy.port)
    through_proxy = _build_app(database.render_as_string(hide_password=False), str(tmp_path / "instance"))
    client = through_proxy.test_client()
    try:
        up = client.get("/readyz")
        proxy.stop()  # the pooled connection is cut, and new ones are refused
        down = client.get("/readyz")
        healthy = client.get("/healthz")
        proxy.start()
        again = client.get("/readyz")
    finally:
        proxy.stop()
        with through_proxy.app_context():
            db.engine.dispose()

    assert up.status_code == 200
    assert down.status_code == 503
    assert down.get_json()["checks"] == {"database": "failing", "migrations": "failing"}
    assert healthy.status_code == 200
    assert again.status_code == 200


@pytest.mark.parametrize("pre_ping", [True, False], ids=["pre-ping", "no-pre-ping"])
def test_a_restarted_database_costs_no_request_an_error_when_connections_are_tested(app, tmp_path, pre_ping):
    """Production tests each pooled connection before use (``DATABASE_POOL_PRE_PING``):
    after the server went away and came back, the first request gets a new connection.
    Without it, the first request meets the dead one (and fails)."""
    server = make_url(TEST_DATABASE_URL)
    proxy = TcpProxy(server.port or 5432).start()
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=proxy.port)
    through_proxy = _build_app(
        database.render_as_string(hide_password=False),
        str(tmp_path / "instance"),
        DATABASE_POOL_PRE_PING=pre_ping,
    )
    client = through_proxy.test_client()
    try:
        up = client.get("/readyz")
        proxy.stop()  # a restart: every open connection is gone
        proxy.start()
        first = client.get("/readyz")
    finally:
        proxy.stop()
        with through_proxy.app_context():
            db.engine.dispose()

    assert up.status_code == 200
    assert first.status_code == (200 if pre_ping else 503)


def _until(condition, what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)

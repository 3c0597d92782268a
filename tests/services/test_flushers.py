"""Flushers on real Redis and PostgreSQL (exchange/tracking/flushers.py): a flusher
SIGKILLed in the middle of a batch leaves it to another flusher, which writes every click
once; two flushers never run under one name."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import redis
from sqlalchemy import select

from exchange.extensions import db
from exchange.tracking import buffer
from exchange.tracking.models import Click
from tests.http_harness import ROOT, process_env
from tests.services.test_click_buffer import buffered_app, clicks_in_database
from tests.services.workers import wait_until

LEASE = "2"  # seconds: a killed flusher's batch is taken over soon after


def start_flusher(env: dict, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "clicks", "flush", "--loop", "--interval", "0.05", "--name", name,
         "--lease", LEASE],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def stop(flusher: subprocess.Popen) -> tuple[str, str]:
    flusher.send_signal(signal.SIGTERM)
    return flusher.communicate(timeout=60)


def test_a_killed_flushers_batch_is_written_once_by_another_flusher(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app, token, _ = buffered_app(live_app_factory, redis_url)
    r = redis.Redis.from_url(redis_url)
    client = app.test_client()
    assert all(client.get(f"/c/{token}?sub1={n}").status_code == 302 for n in range(8))
    first = json.loads(r.lindex(buffer.BUFFER_KEY, 0))
    env = process_env(live_database_url, str(tmp_path / "flusher"), redis_url)

    with app.app_context():
        buffer._insert([dict(first)])  # uncommitted: flusher a's INSERT waits on this click's row
        killed = start_flusher(env, "a")
        wait_until(lambda: r.llen(buffer.PROCESSING_KEY.format("a")) == 8, "flusher a holds the batch")
        os.killpg(killed.pid, signal.SIGKILL)  # in the middle of its batch
        killed.wait(timeout=30)
        db.session.rollback()

    assert clicks_in_database(app) == 0 and r.llen(buffer.PROCESSING_KEY.format("a")) == 8
    other = start_flusher(env, "b")
    try:
        wait_until(lambda: clicks_in_database(app) == 8, "flusher b wrote a's batch", seconds=60)
    finally:
        out, err = stop(other)

    with app.app_context():
        subs = sorted(db.session.scalars(select(Click.sub1)))
    assert other.returncode == 0, err
    assert subs == sorted(str(n) for n in range(8))  # each click once
    assert "took over 8 click(s)" in err
    assert r.exists(buffer.PROCESSING_KEY.format("a"), buffer.PROCESSING_KEY.format("b")) == 0


def test_a_second_flusher_of_a_name_in_use_refuses_to_start(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    buffered_app(live_app_factory, redis_url)
    env = process_env(live_database_url, str(tmp_path / "flusher"), redis_url)
    running = start_flusher(env, "a")
    try:
        assert running.stdout.readline().startswith("flusher a running")
        second = subprocess.run(
            [sys.executable, "-m", "flask", "clicks", "flush", "--name", "a", "--lease", LEASE],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        other_name = subprocess.run(
            [sys.executable, "-m", "flask", "clicks", "flush", "--name", "b", "--lease", LEASE],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        stop(running)

    assert second.returncode != 0
    assert "a flusher named 'a' is running" in second.stderr
    assert other_name.returncode == 0, other_name.stderr

"""A lead held by a validation worker that is SIGKILLed is decided within a minute, on the
default settings, by the real machinery: another worker, and a real ``rq cron`` scheduler
running the sweep (docs/queue.md, "A worker killed mid-batch"). Before, the lead waited
five minutes and more."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from exchange.config import BaseConfig
from tests.conftest import BACKEND
from tests.http_harness import ROOT, process_env
from tests.services.workers import (
    assert_each_validated_exactly_once,
    decided_count,
    held_elsewhere,
    kill_hard,
    money_locked,
    queued_leads,
    start_worker,
    stop,
    wait_until,
)

MINUTE = 60


@pytest.fixture(autouse=True)
def _on_services():
    assert BACKEND == "services", "real workers and a real scheduler (tests/services)"


def test_a_lead_held_by_a_killed_worker_is_decided_within_a_minute(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory(REDIS_URL=redis_url)
    assert app.config["STUCK_RECEIVED_SECONDS"] == BaseConfig.STUCK_RECEIVED_SECONDS  # the defaults
    lead_ids = queued_leads(app, 3)
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)

    with money_locked(app, lead_ids[0]):  # the batch judges its leads, then waits to reserve
        doomed = start_worker(env, "validation")
        wait_until(lambda: held_elsewhere(app, lead_ids) == 3, "the batch holds the three leads")
        kill_hard(doomed)
        killed_at = time.monotonic()
    survivor = start_worker(env, "validation", "periodic")
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "cron", "exchange.rq_cron_config", "--url", redis_url],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until(lambda: decided_count(app, lead_ids) == 3, "every lead is decided", seconds=2 * MINUTE)
        waited = time.monotonic() - killed_at
    finally:
        scheduler.kill()
        scheduler.wait(timeout=10)
        stop(survivor)

    assert waited <= MINUTE, f"decided {waited:.1f} s after the kill"
    assert_each_validated_exactly_once(app, lead_ids)

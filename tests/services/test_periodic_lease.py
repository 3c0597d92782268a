"""Two schedulers running at once do not double a periodic job (exchange/periodic.py,
``run_periodic``): two real ``rq cron`` processes enqueue the same job every 2 s, a real
worker runs what they enqueue, and the job's runs are never closer together than its lease
(without the lease, each scheduler's enqueue ran: twice the runs)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis

from exchange.health import SCHEDULERS_KEY
from exchange.periodic import lease_seconds
from tests.conftest import BACKEND
from tests.http_harness import ROOT, process_env
from tests.services.logging_job import RUNS_KEY
from tests.services.twin_cron_config import INTERVAL
from tests.services.workers import start_worker, stop, wait_until

WATCHED_SECONDS = 9


@pytest.fixture(autouse=True)
def _on_services():
    assert BACKEND == "services", "real rq cron schedulers and a worker (tests/services)"


def test_two_schedulers_at_once_run_a_periodic_job_once_per_interval(live_database_url, redis_url, tmp_path):
    connection = redis.Redis.from_url(redis_url)
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    worker = start_worker(env, "periodic")
    schedulers = [
        subprocess.Popen(
            [sys.executable, "-m", "rq.cli", "cron", "tests.services.twin_cron_config", "--url", redis_url],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    try:
        wait_until(lambda: connection.zcard(SCHEDULERS_KEY) == 2, "both schedulers beat", seconds=30)
        wait_until(lambda: connection.llen(RUNS_KEY) > 0, "the first run", seconds=30)
        time.sleep(WATCHED_SECONDS)
    finally:
        for scheduler in schedulers:
            scheduler.kill()
            scheduler.wait(timeout=10)
        stop(worker)

    runs = [float(at) for at in connection.lrange(RUNS_KEY, 0, -1)]
    gaps = [later - earlier for earlier, later in zip(runs, runs[1:], strict=False)]
    assert len(runs) >= WATCHED_SECONDS // INTERVAL  # it ran, about once an interval
    assert len(runs) <= WATCHED_SECONDS / lease_seconds(INTERVAL) + 2  # not twice as often
    assert min(gaps) >= lease_seconds(INTERVAL) - 0.05, gaps  # no two runs inside one lease

"""``python -m exchange.worker`` (what ``make worker`` runs): every queue by default."""

from __future__ import annotations

import subprocess
import sys

from exchange.jobs import QUEUES
from tests.http_harness import ROOT, process_env, run_worker_burst


def test_the_worker_listens_on_all_six_queues_by_default(live_database_url, redis_url, tmp_path):
    worker = run_worker_burst(process_env(live_database_url, str(tmp_path / "w"), redis_url))

    assert worker.returncode == 0, worker.stderr
    assert QUEUES == ("validation", "delivery", "postbacks", "billing", "periodic", "tasks")
    assert "*** Listening on validation, delivery, postbacks, billing, periodic, tasks..." in worker.stderr
    for queue in QUEUES:  # and runs the scheduler for each (retries with backoff are scheduled jobs)
        assert f"Acquired scheduler lock for {queue}" in worker.stderr


def test_the_worker_refuses_a_queue_that_does_not_exist(live_database_url, redis_url, tmp_path):
    worker = subprocess.run(
        [sys.executable, "-m", "exchange.worker", "--burst", "validation", "emails"],
        cwd=ROOT,
        env=process_env(live_database_url, str(tmp_path / "w"), redis_url),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert worker.returncode == 2
    assert "unknown queue(s) emails" in worker.stderr

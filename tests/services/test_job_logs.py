"""A real rq worker in production (docs/operations.md, "Logs"): every line it writes is a
JSON object, and a line logged inside a job carries the job's id and queue."""

from __future__ import annotations

import json

import pytest
import redis
from rq import Queue

from tests.conftest import BACKEND
from tests.http_harness import process_env
from tests.services.logging_job import LINE
from tests.services.workers import start_worker, stop, wait_until


@pytest.fixture(autouse=True)
def _on_services():
    assert BACKEND == "services", "a real rq worker on Redis (tests/services)"


def production_env(database_url: str, redis_url: str, tmp_path) -> dict:
    """A worker in production, logging as production does by default (JSON lines)."""
    env = {
        **process_env(database_url, str(tmp_path / "worker"), redis_url),
        "EXCHANGE_ENV": "production",
        "SECRET_KEY": "w" * 40,
    }
    env.pop("LOG_FORMAT", None)
    return env


def test_a_workers_lines_are_json_and_a_jobs_line_carries_its_id_and_queue(
    live_database_url, redis_url, tmp_path
):
    connection = redis.Redis.from_url(redis_url)
    job = Queue("periodic", connection=connection).enqueue(
        "tests.services.logging_job.log_a_line", job_id="log-a-line-1"
    )
    worker = start_worker(production_env(live_database_url, redis_url, tmp_path), "periodic")
    wait_until(lambda: job.get_status(refresh=True) == "finished", "the job ran")
    stderr = stop(worker)

    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # each one JSON
    (inside,) = [line for line in lines if line["message"] == LINE]
    assert (inside["job_id"], inside["queue"], inside["level"]) == ("log-a-line-1", "periodic", "WARNING")
    assert any(line["logger"].startswith("rq.") for line in lines)  # rq's own lines, as JSON too


def test_a_failed_jobs_line_is_logged_with_its_id_and_the_job_is_failed(
    live_database_url, redis_url, tmp_path
):
    """rq logs a failed job with ``extra={"job_id": …, "queue": …}``: the line is written
    (a record factory that set attributes of those names made rq's logging raise, and the
    job was left "started" for good, its retry never scheduled)."""
    connection = redis.Redis.from_url(redis_url)
    job = Queue("periodic", connection=connection).enqueue("tests.services.logging_job.fail", job_id="fail-1")
    worker = start_worker(production_env(live_database_url, redis_url, tmp_path), "periodic")
    wait_until(lambda: job.get_status(refresh=True) == "failed", "the job failed")
    stderr = stop(worker)

    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    (failed,) = [line for line in lines if "exception raised while executing" in line["message"]]
    assert (failed["job_id"], failed["queue"], failed["level"]) == ("fail-1", "periodic", "ERROR")
    assert "this job fails on purpose" in failed["message"]

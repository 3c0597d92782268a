"""The validation queue with real rq worker processes, real Redis and real
PostgreSQL: a worker killed mid-batch, Redis flushed mid-run, and one lead
validated by two workers at once (DESIGN §3 rules, §7 reliability)."""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job

from exchange.jobs import abandoned
from exchange.leads.sweep import sweep
from exchange.leads.tasks import validate_lead_job
from tests.http_harness import process_env, run_worker_burst
from tests.services.workers import (
    assert_each_validated_exactly_once,
    decided_count,
    kill_hard,
    queued_leads,
    row_locked,
    start_worker,
    stop,
    wait_until,
)

BATCH = 24


def queue_app(live_app_factory, redis_url):
    """Jobs go to Redis; the sweep takes every lead still received; a job
    timeout of 1 s lets a dead worker's job be recognised within seconds."""
    return live_app_factory(REDIS_URL=redis_url, STUCK_RECEIVED_SECONDS=0, JOB_TIMEOUT_SECONDS=1)


def status(connection, job_id: str) -> str | None:
    job = Job.fetch_many([job_id], connection=connection)[0]
    return job.get_status() if job else None


def test_a_worker_killed_mid_batch_leaves_every_lead_validated_exactly_once_after_the_sweep(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    lead_ids = queued_leads(app, BATCH)
    in_flight = lead_ids[BATCH // 2]
    in_flight_job = f"validate-lead-{in_flight}"

    with row_locked(app, in_flight):  # the worker validates the first half, then waits on this lead
        worker = start_worker(env, "validation")
        try:
            wait_until(lambda: status(connection, in_flight_job) == "started", f"{in_flight_job} started")
            wait_until(lambda: decided_count(app, lead_ids) == BATCH // 2, "the first half is decided")
        finally:
            kill_hard(worker)  # SIGKILL to the worker and its scheduler, in the middle of a job

    assert decided_count(app, lead_ids) == BATCH // 2  # the killed job's transaction died with it
    job = Job.fetch(in_flight_job, connection=connection)
    assert job.get_status() == "started"  # rq does not know yet: no worker is left to tell it
    wait_until(lambda: abandoned(Job.fetch(in_flight_job, connection=connection)), "past its timeout", 30)

    with app.app_context():
        assert sweep().requeued == BATCH - BATCH // 2
    assert in_flight_job in Queue("validation", connection=connection).job_ids
    second = run_worker_burst(env, "validation")

    assert second.returncode == 0, second.stderr
    assert_each_validated_exactly_once(app, lead_ids)
    validation = Queue("validation", connection=connection)
    assert validation.started_job_registry.get_job_ids(cleanup=False) == []  # nothing left for rq to retry
    assert validation.failed_job_registry.count == 0


def test_redis_flushed_mid_run_loses_no_lead(live_app_factory, live_database_url, redis_url, tmp_path):
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    lead_ids = queued_leads(app, BATCH)
    in_flight = lead_ids[BATCH // 2]

    worker = start_worker(env, "validation")
    try:
        with row_locked(app, in_flight):
            wait_until(lambda: decided_count(app, lead_ids) == BATCH // 2, "the first half is decided")
            connection.flushdb()  # every queued job, every registry, the worker's own keys: gone
        wait_until(lambda: decided_count(app, lead_ids) == BATCH // 2 + 1, "the job in flight finishes")
        assert Queue("validation", connection=connection).count == 0

        with app.app_context():
            assert sweep().requeued == BATCH - BATCH // 2 - 1
        wait_until(lambda: decided_count(app, lead_ids) == BATCH, "the same worker decides the rest")
    finally:
        stderr = stop(worker)

    assert worker.returncode == 0, stderr
    assert_each_validated_exactly_once(app, lead_ids)


def test_one_lead_validated_by_two_worker_processes_at_once_is_decided_once(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    [lead_id] = queued_leads(app, 1)
    queue = Queue("validation", connection=connection)
    job_ids = [f"validate-lead-{lead_id}", f"validate-lead-{lead_id}-again"]
    queue.enqueue_call(
        func=f"{validate_lead_job.__module__}.validate_lead_job", args=(lead_id,), job_id=job_ids[1]
    )

    workers = []
    try:
        with row_locked(app, lead_id):  # both take their job and wait on the lead: released together
            workers = [start_worker(env, "validation"), start_worker(env, "validation")]
            jobs = [Job.fetch(job_id, connection=connection) for job_id in job_ids]

            def both_started() -> bool:
                for job in jobs:
                    job.refresh()
                return all(job.get_status() == "started" for job in jobs)

            wait_until(both_started, "each worker has started its job")
            assert jobs[0].worker_name != jobs[1].worker_name
        wait_until(lambda: all(job.get_status(refresh=True) == "finished" for job in jobs), "both finish")
    finally:
        for worker in workers:
            stop(worker)

    assert [job.return_value() for job in jobs] == ["pending", "pending"]  # the second found it decided
    assert_each_validated_exactly_once(app, [lead_id])

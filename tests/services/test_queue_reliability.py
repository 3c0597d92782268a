"""The validation queue with real rq worker processes, real Redis and real
PostgreSQL: a worker killed mid-batch, Redis flushed mid-run, a burst validated
in batches by two workers, and one lead validated by two workers at once
(DESIGN §3 rules, §7 reliability)."""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job

from exchange.jobs import abandoned, drop_waiting
from exchange.leads.jobs import validate_lead_job
from exchange.periodic import sweep
from tests.http_harness import process_env, run_worker_burst
from tests.services.workers import (
    assert_each_validated_exactly_once,
    decided_count,
    held_elsewhere,
    kill_hard,
    money_locked,
    queued_leads,
    row_locked,
    start_worker,
    stop,
    wait_until,
)

LEADS = 24
SIZE = 6  # VALIDATION_BATCH_SIZE of the workers: four batches


def queue_app(live_app_factory, redis_url):
    """Jobs go to Redis; the sweep takes every lead still received; a job timeout
    of 5 s lets a dead worker's job be recognised within seconds, yet gives a batch
    held on a lock time enough to be seen started on a loaded machine (at 1 s, rq
    stopped it first, and it ran again and finished: CI of 2026-12-06)."""
    return live_app_factory(
        REDIS_URL=redis_url, STUCK_RECEIVED_SECONDS=0, JOB_TIMEOUT_SECONDS=5, VALIDATION_JOB_TIMEOUT_SECONDS=5
    )


def worker_env(live_database_url, redis_url, tmp_path, batch_size: int = SIZE) -> dict:
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    return {**env, "VALIDATION_BATCH_SIZE": str(batch_size)}


def status(connection, job_id: str) -> str | None:
    job = Job.fetch_many([job_id], connection=connection)[0]
    return job.get_status() if job else None


def two_advertisers_leads(app) -> tuple[list[int], list[int]]:
    """A first batch of leads of one advertiser, then the rest, of another."""
    return queued_leads(app, SIZE), queued_leads(app, LEADS - SIZE)


def test_a_worker_killed_mid_batch_leaves_every_lead_validated_exactly_once_after_the_sweep(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    env = worker_env(live_database_url, redis_url, tmp_path)
    first, rest = two_advertisers_leads(app)
    lead_ids = first + rest
    in_flight_job = f"validate-lead-{rest[0]}"

    with money_locked(app, rest[0]):  # the second batch judges its leads, then waits to reserve
        worker = start_worker(env, "validation")
        try:
            wait_until(lambda: decided_count(app, lead_ids) == SIZE, "the first batch is decided")
            wait_until(lambda: held_elsewhere(app, rest) == SIZE, "the second batch holds its leads")
            assert status(connection, in_flight_job) == "started"
        finally:
            kill_hard(worker)  # SIGKILL to the worker and its scheduler, in the middle of a batch

    assert decided_count(app, lead_ids) == SIZE  # the killed batch's transaction died with it
    assert held_elsewhere(app, rest) == 0
    job = Job.fetch(in_flight_job, connection=connection)
    assert job.get_status() == "started"  # rq does not know yet: no worker is left to tell it
    wait_until(lambda: abandoned(Job.fetch(in_flight_job, connection=connection)), "past its timeout", 60)

    with app.app_context():
        assert sweep().requeued == LEADS - SIZE
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
    env = worker_env(live_database_url, redis_url, tmp_path)
    first, rest = two_advertisers_leads(app)
    lead_ids = first + rest

    worker = start_worker(env, "validation")
    try:
        with money_locked(app, rest[0]):
            wait_until(lambda: decided_count(app, lead_ids) == SIZE, "the first batch is decided")
            wait_until(lambda: held_elsewhere(app, rest) == SIZE, "the second batch holds its leads")
            connection.flushdb()  # every queued job, every registry, the worker's own keys: gone
        wait_until(lambda: decided_count(app, lead_ids) == 2 * SIZE, "the batch in flight finishes")
        assert Queue("validation", connection=connection).count == 0

        with app.app_context():
            assert sweep().requeued == LEADS - 2 * SIZE
        wait_until(lambda: decided_count(app, lead_ids) == LEADS, "the same worker decides the rest")
    finally:
        stderr = stop(worker)

    assert worker.returncode == 0, stderr
    assert_each_validated_exactly_once(app, lead_ids)


def test_two_workers_validate_a_burst_in_batches_each_lead_once_with_few_jobs_run(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    env = worker_env(live_database_url, redis_url, tmp_path, batch_size=20)
    lead_ids = queued_leads(app, 120)
    job_ids = [f"validate-lead-{lead_id}" for lead_id in lead_ids]

    workers = [start_worker(env, "validation"), start_worker(env, "validation")]
    try:
        wait_until(lambda: decided_count(app, lead_ids) == len(lead_ids), "every lead is decided")
        validation = Queue("validation", connection=connection)
        wait_until(lambda: validation.count == 0, "the queue is empty")
        wait_until(lambda: not validation.started_job_registry.get_job_ids(cleanup=False), "no job running")
    finally:
        for worker in workers:
            stop(worker)

    assert_each_validated_exactly_once(app, lead_ids)
    ran = [job for job in Job.fetch_many(job_ids, connection=connection) if job is not None]
    assert all(job.get_status() == "finished" for job in ran)
    assert len(ran) <= len(lead_ids) // 4  # the others were taken off the queue, their leads decided


def test_drop_waiting_takes_only_jobs_still_on_the_queue(live_app_factory, redis_url):
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    lead_ids = queued_leads(app, 3)  # no worker: their three jobs wait
    job_ids = [f"validate-lead-{lead_id}" for lead_id in lead_ids]

    with app.app_context():
        assert drop_waiting("validation", [job_ids[0], job_ids[2], "validate-lead-0"]) == 2

    assert Queue("validation", connection=connection).job_ids == [job_ids[1]]
    assert [Job.exists(job_id, connection=connection) for job_id in job_ids] == [False, True, False]


def test_one_lead_taken_by_two_batches_at_once_is_decided_once(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    env = worker_env(live_database_url, redis_url, tmp_path, batch_size=50)
    [lead_id] = queued_leads(app, 1)
    job_ids = [f"validate-lead-{lead_id}", f"validate-lead-{lead_id}-again"]
    Queue("validation", connection=connection).enqueue_call(
        func=f"{validate_lead_job.__module__}.validate_lead_job", args=(lead_id,), job_id=job_ids[1]
    )
    jobs = [Job.fetch(job_id, connection=connection) for job_id in job_ids]

    def statuses() -> list[str]:
        for job in jobs:
            job.refresh()
        return sorted(job.get_status() for job in jobs)

    workers = []
    try:
        with money_locked(app, lead_id):  # the first batch holds the lead and waits to reserve
            workers = [start_worker(env, "validation"), start_worker(env, "validation")]
            wait_until(lambda: statuses() == ["finished", "started"], "one holds it, the other passed it by")
            assert jobs[0].worker_name != jobs[1].worker_name
        wait_until(lambda: statuses() == ["finished", "finished"], "both finish")
    finally:
        for worker in workers:
            stop(worker)

    assert sorted(job.return_value() for job in jobs) == ["pending", "received"]  # left to the holder
    assert_each_validated_exactly_once(app, [lead_id])


def test_one_lead_validated_by_two_worker_processes_at_once_is_decided_once(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    """Without batches (VALIDATION_BATCH_SIZE=1) a job waits for its lead's lock."""
    app = queue_app(live_app_factory, redis_url)
    connection = redis.Redis.from_url(redis_url)
    env = worker_env(live_database_url, redis_url, tmp_path, batch_size=1)
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

"""The rq side of the queue adapter, on real Redis."""

from __future__ import annotations

import redis
from rq import Queue

from exchange.jobs import JobRequest, dispatch

VALIDATE = "exchange.leads.jobs.validate_lead_job"


def test_work_already_waiting_under_its_job_id_is_not_queued_twice(live_app_factory, redis_url):
    app = live_app_factory(REDIS_URL=redis_url)
    queue = Queue("validation", connection=redis.Redis.from_url(redis_url))
    request = JobRequest(VALIDATE, (42,), "validation", "validate-lead-42")

    with app.app_context():
        for _ in range(3):  # e.g. three sweeps while the queue is backed up
            dispatch(request)
        dispatch(JobRequest(VALIDATE, (43,), "validation", "validate-lead-43"))

    assert queue.job_ids == ["validate-lead-42", "validate-lead-43"]

"""The periodic sweep as an rq job, run by a real worker process."""

from __future__ import annotations

import redis
from rq import Queue

from exchange.extensions import db
from exchange.leads.jobs import sweep_leads_job
from exchange.leads.models import Lead
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.http_harness import process_env, run_worker_burst
from tests.integration.helpers import submit_and_validate


def test_a_worker_runs_the_periodic_sweep_from_the_periodic_queue(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory()  # in-process validation while setting up
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser, review_window_seconds=0)
        fund(advertiser, 10_000)
        make_join(webmaster, offer)
        lead_id = submit_and_validate(webmaster, offer, lead_fields()).id
        assert db.session.get(Lead, lead_id).status == "pending"

    queue = Queue("periodic", connection=redis.Redis.from_url(redis_url))
    job = queue.enqueue_call(
        func=f"{sweep_leads_job.__module__}.{sweep_leads_job.__name__}", job_id="sweep-leads"
    )

    worker = run_worker_burst(process_env(live_database_url, str(tmp_path / "w"), redis_url), "periodic")

    assert worker.returncode == 0, worker.stderr
    job.refresh()
    assert job.get_status() == "finished", worker.stderr
    assert "auto_approved=1" in job.return_value()
    with app.app_context():
        assert db.session.get(Lead, lead_id).status == "approved"

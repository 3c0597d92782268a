"""Periodic work: declared once, run by the demo server's timer thread
(embedded) or by rq's cron scheduler (services)."""

from __future__ import annotations

import time

from exchange import jobs
from exchange.extensions import db
from exchange.jobs import job_function
from exchange.leads.models import Lead
from exchange.periodic import PERIODIC_JOBS, job_path, run_periodic, start_sweep_timer
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.integration.helpers import submit_and_validate


def test_the_demo_timer_thread_runs_the_sweep_until_stopped(live_app_factory):
    app = live_app_factory(SWEEP_INTERVAL_SECONDS=0.05)
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser, review_window_seconds=0)  # due for approval at once
        fund(advertiser, 10_000)
        make_join(webmaster, offer)
        lead_id = submit_and_validate(webmaster, offer, lead_fields()).id
        assert db.session.get(Lead, lead_id).status == "pending"

    timer = start_sweep_timer(app)
    try:
        status = "pending"
        for _ in range(200):  # bounded: at most ~10 s
            with app.app_context():
                status = db.session.get(Lead, lead_id).status
            if status == "approved":
                break
            time.sleep(0.05)
    finally:
        timer.stop()  # waits for the round running: nothing writes while the tables are emptied
    assert status == "approved"
    assert not timer.running


def test_rq_cron_config_registers_every_periodic_job_on_its_queue():
    from rq import cron

    cron._job_data_registry.clear()
    import importlib

    import exchange.rq_cron_config as config

    importlib.reload(config)
    registered = {
        (job["name"], job["queue_name"], job["interval"], job["func"], job["args"])
        for job in cron._job_data_registry
    }
    assert registered == {
        (name, queue, seconds, run_periodic, (name, job_path(func), seconds))
        for name, func, queue, seconds in PERIODIC_JOBS
    }
    assert all(job_function(job_path(func)) is func for _name, func, _queue, _seconds in PERIODIC_JOBS)
    assert all(queue in jobs.QUEUES for _name, _job, queue, _seconds in PERIODIC_JOBS)
    cron._job_data_registry.clear()


def test_every_sweep_step_is_its_own_periodic_job_with_a_stable_name():
    from exchange.periodic import STUCK_LEADS_SECONDS, SWEEP_SECONDS, SWEEP_STEPS

    names = [step.name for step in SWEEP_STEPS]
    assert names == [
        "sweep-leads",
        "sweep-postbacks",
        "sweep-deliveries",
        "sweep-disputes",
        "sweep-stripe-events",
        "sweep-tasks",
        "sweep-exchange",
        "rate-quality",
        "sweep-catalog",
        "sweep-privacy",
    ]
    scheduled = {name: (job, queue, seconds) for name, job, queue, seconds in PERIODIC_JOBS}
    for step in SWEEP_STEPS:
        assert scheduled[step.name] == (step.job, "periodic", step.seconds)
        assert step.seconds == (
            STUCK_LEADS_SECONDS if step.name in ("sweep-leads", "sweep-exchange") else SWEEP_SECONDS
        )
        assert step.job.__module__.endswith(".jobs")  # contributed by its feature's jobs.py


def test_a_sweep_with_nothing_due_runs_every_step_and_counts_nothing(ctx):
    from exchange.periodic import sweep

    report = sweep()

    counts = [
        "auto_approved",
        "holds_released",
        "funded",
        "requeued",
        "postbacks_due",
        "deliveries_due",
        "disputes_escalated",
        "stripe_events",
        "tasks_requeued",
        "tasks_expired",
        "sales_approved",
        "sale_holds_released",
        "exchange_leads_requeued",
        "auctions_restarted",
        "sellers_rated",
        "buyers_rated",
        "leads_listed",
        "leads_not_listed",
        "listings_freed",
        "listings_sold_elsewhere",
        "listings_gone",
        "retention_erased",
        "hashes_forgotten",
    ]
    assert report == dict.fromkeys(counts, 0)
    assert str(report) == " ".join(f"{name}=0" for name in counts)
    assert report.funded == 0


def test_a_lead_held_by_a_dead_worker_is_queued_again_within_a_minute_by_the_defaults():
    """The bound the defaults give (docs/queue.md): the dead worker's validation job is seen
    abandoned after its timeout and a grace, the lead is stuck after STUCK_RECEIVED_SECONDS,
    and the leads' sweep step runs every STUCK_LEADS_SECONDS; then a live worker decides it
    in well under a second. tests/services/test_queue_reliability.py kills a worker
    mid-batch and shows the sweep doing it (on shorter settings)."""
    from exchange.config import BaseConfig
    from exchange.periodic import STUCK_LEADS_SECONDS

    seen_dead = BaseConfig.VALIDATION_JOB_TIMEOUT_SECONDS + jobs.ABANDONED_GRACE_SECONDS
    worst = max(seen_dead, BaseConfig.STUCK_RECEIVED_SECONDS) + STUCK_LEADS_SECONDS

    assert jobs.QUEUE_TIMEOUT_SETTINGS["validation"] == "VALIDATION_JOB_TIMEOUT_SECONDS"
    assert worst <= 59

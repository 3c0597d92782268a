"""Periodic work, declared once, with stable ids.

The sweep is a list of steps, each contributed by the feature whose work time makes due
(the step's function and its job live in that feature's ``jobs.py``); no feature runs
another's. Each step is its own periodic job, named ``sweep-<step>``: its name is the
cron entry's and the first word of its log lines, and one step failing does not stop the
others. ``flask exchange sweep`` (and ``sweep()``) runs every step once, in this order.

On real services ``rq cron exchange.rq_cron_config`` enqueues each job on its
own interval (``make scheduler``), wrapped in ``run_periodic``: a run takes a lease in
Redis for (almost) its interval, so that two schedulers running at once (a second one
started by mistake, or on another machine for safety) do not double any job: the run
that finds the lease taken does nothing. In the embedded demo a timer thread runs the
same jobs in-process, all of them every SWEEP_INTERVAL_SECONDS.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from billing.payouts.jobs import payouts_job
from billing.topups.jobs import requeue_stripe_events, requeue_stripe_events_job
from exchange.catalog.jobs import sweep_catalog_job
from exchange.catalog.listing import sweep_catalog
from exchange.delivery.leads.jobs import requeue_due_deliveries, requeue_due_deliveries_job
from exchange.delivery.postbacks.jobs import requeue_due_postbacks, requeue_due_postbacks_job
from exchange.disputes.jobs import escalate_overdue_disputes, escalate_overdue_disputes_job
from exchange.jobs import job, job_function, redis_connection, summary
from exchange.leads.jobs import sweep_leads_job
from exchange.leads.sweep import sweep_leads
from exchange.longjobs.jobs import sweep_tasks, sweep_tasks_job
from exchange.privacy.jobs import sweep_retention_job
from exchange.privacy.retention import sweep_retention
from exchange.quality.jobs import rate_quality_job, rate_quality_now
from exchange.reports.jobs import fold_job
from exchange.selling.jobs import sweep_exchange_job
from exchange.selling.sweep import sweep_exchange

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60
STUCK_LEADS_SECONDS = 20  # the steps that find leads a dead worker held: within a minute in all


@dataclass(frozen=True)
class SweepStep:
    name: str  # stable: its periodic job's name and the first word of its log lines
    run: Callable[[], dict[str, int]]  # does the due work, commits, and counts what it did
    job: Callable[[], str]  # the same as an rq job (its counts as text)
    seconds: int = SWEEP_SECONDS  # between two runs, on rq cron


SWEEP_STEPS = (
    # review windows that ended, holds that ended, waiting leads funded, stuck leads queued again
    SweepStep("sweep-leads", sweep_leads, sweep_leads_job, STUCK_LEADS_SECONDS),
    # postbacks and lead deliveries whose retry is due, or whose job was lost
    SweepStep("sweep-postbacks", requeue_due_postbacks, requeue_due_postbacks_job),
    SweepStep("sweep-deliveries", requeue_due_deliveries, requeue_due_deliveries_job),
    # disputes not answered in time go to the moderators
    SweepStep("sweep-disputes", escalate_overdue_disputes, escalate_overdue_disputes_job),
    # Stripe events whose job was lost
    SweepStep("sweep-stripe-events", requeue_stripe_events, requeue_stripe_events_job),
    # exports and imports whose worker died; finished tasks' files past TASK_RESULT_DAYS
    SweepStep("sweep-tasks", sweep_tasks, sweep_tasks_job),
    # the exchange: sales approved at their review deadline, holds released, stuck exchange
    # leads judged again, auctions nobody holds started again
    SweepStep("sweep-exchange", sweep_exchange, sweep_exchange_job, STUCK_LEADS_SECONDS),
    # sellers' and buyers' records per vertical counted again (at most every
    # QUALITY_EVERY_SECONDS): the multipliers on sellers' prices, the buyers' tie ranks
    SweepStep("rate-quality", rate_quality_now, rate_quality_job),
    # leads whose auction ended listed in the catalog (or recorded as not listed), listings
    # past their vertical's last age step or whose lead was erased taken off it
    SweepStep("sweep-catalog", sweep_catalog, sweep_catalog_job),
    # decided leads past their offer's or vertical's retention period lose their personal
    # data; erased leads past every duplicate window lose their contact hashes (docs/privacy.md)
    SweepStep("sweep-privacy", sweep_retention, sweep_retention_job),
)

PERIODIC_JOBS = (
    # (stable name, job, queue, seconds between runs)
    *((step.name, step.job, "periodic", step.seconds) for step in SWEEP_STEPS),
    # scheduled payouts due today; Stripe Connect payouts whose job was lost
    ("payouts", payouts_job, "billing", 300),
    # report rollups: fold the changes of clicks and leads (docs/reports.md)
    ("reports", fold_job, "periodic", 30),
)


class SweepReport(dict):
    """What one sweep did, by count: ``report["funded"]`` or ``report.funded``."""

    def __getattr__(self, name: str) -> int:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self) -> str:
        return summary(self)


def sweep() -> SweepReport:
    """Every step of the sweep once, in order, in this app context (``flask exchange sweep``)."""
    report = SweepReport()
    for step in SWEEP_STEPS:
        counts = step.run()
        log.info("%s: %s", step.name, summary(counts))
        report.update(counts)
    return report


def register_with_rq_cron() -> None:
    from rq import cron

    for name, func, queue, seconds in PERIODIC_JOBS:
        cron.register(run_periodic, queue, args=(name, job_path(func), seconds), interval=seconds, name=name)


def job_path(func: Callable[..., object]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


LEASE_KEY = "exchange:periodic:lease:{}"


def lease_seconds(interval: float) -> float:
    """How long a run keeps others of the same job away: its interval, less a margin for the
    scheduler's and the queue's jitter (so that the next run of the same scheduler is not
    refused). Runs of one job are at least this far apart, however many schedulers enqueue it."""
    return interval - min(1.0, interval / 10)


@job
def run_periodic(name: str, path: str, interval: float) -> str:
    """The periodic job ``name`` (the function at ``path``), unless a run of it started less
    than ``lease_seconds(interval)`` ago (enqueued by another scheduler)."""

    redis = redis_connection(current_app.config["REDIS_URL"])
    lease = lease_seconds(interval)
    if not redis.set(LEASE_KEY.format(name), os.getpid(), nx=True, px=int(lease * 1000)):
        log.info("%s: skipped, it ran less than %ss ago (another scheduler's turn)", name, lease)
        return "skipped"
    return job_function(path)()


class SweepTimer:
    """The demo server's periodic jobs on a thread; ``stop()`` waits for the round running."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="periodic", daemon=True)

    def start(self) -> SweepTimer:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.wait(self._app.config["SWEEP_INTERVAL_SECONDS"]):
            with self._app.app_context():
                for name, job, _queue, _seconds in PERIODIC_JOBS:
                    try:
                        log.info("%s: %s", name, job())
                    except Exception:
                        log.exception("periodic job %s failed", name)


def start_sweep_timer(app: Flask) -> SweepTimer:
    """Run the periodic jobs every SWEEP_INTERVAL_SECONDS until the timer's ``stop()``."""
    return SweepTimer(app).start()

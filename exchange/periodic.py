"""Periodic work, declared once, with stable ids.

On real services ``rq cron exchange.rq_cron_config`` enqueues each job on its
own interval (``make scheduler``); in the embedded demo a timer thread runs
the same jobs in-process, all of them every SWEEP_INTERVAL_SECONDS.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from billing.payouts.jobs import payouts_job
from exchange.leads.jobs import sweep_job
from exchange.reports.jobs import fold_job

log = logging.getLogger(__name__)

PERIODIC_JOBS = (
    # (stable name, job, queue, seconds between runs)
    ("sweep", sweep_job, "periodic", 60),
    # scheduled payouts due today; Stripe Connect payouts whose job was lost
    ("payouts", payouts_job, "billing", 300),
    # report rollups: fold the changes of clicks and leads (docs/reports.md)
    ("reports", fold_job, "periodic", 30),
)


def register_with_rq_cron() -> None:
    from rq import cron

    for name, job, queue, seconds in PERIODIC_JOBS:
        cron.register(job, queue, interval=seconds, name=name)


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

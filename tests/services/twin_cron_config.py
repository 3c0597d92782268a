"""Loaded by two ``rq cron`` processes in tests/services/test_periodic_lease.py: one job,
``count-a-run``, every 2 s, through ``run_periodic`` as the real schedule is."""

from rq import cron

from exchange.periodic import job_path, run_periodic
from tests.services.logging_job import count_a_run

INTERVAL = 2
cron.register(
    run_periodic,
    "periodic",
    args=("count-a-run", job_path(count_a_run), INTERVAL),
    interval=INTERVAL,
    name="count-a-run",
)

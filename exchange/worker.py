"""The rq worker: ``python -m exchange.worker [--burst] [--fork] [queue ...]``.

Listens on every queue (``exchange.jobs.QUEUES``: validation, delivery,
postbacks, billing, periodic, tasks) unless queues are named, in the order given,
and always runs rq's scheduler beside it (``with_scheduler``): retries with
backoff are scheduled jobs, and without a scheduler they would never run.

By default the worker runs each job in its own process, without rq's fork per
job: the application and its database connection pool are built once and
reused, which is what lets two workers validate hundreds of leads a second
(the fork and the new database connection cost more than a validation).
Jobs hold no state between runs (each gets a fresh application context and
session), and a job's timeout is still enforced, by SIGALRM. ``--fork`` runs
rq's forking worker instead (a horse per job), for jobs that might leak.
"""

from __future__ import annotations

import argparse
import functools
import os

from rq import SimpleWorker, Worker

from exchange import create_app, jobs, metrics


@functools.cache
def worker_app():
    """The process's one application (however many worker objects rq makes)."""
    return create_app()


class ForkingAppWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        jobs.serve_jobs_from(worker_app())  # built here, inherited by every forked horse


class AppWorker(SimpleWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        jobs.serve_jobs_from(worker_app())  # built once, used by every job this process runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--fork", action="store_true", help="fork a work horse per job (rq's default)")
    parser.add_argument("queues", nargs="*", default=list(jobs.QUEUES))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.queues) - set(jobs.QUEUES))
    if unknown:
        parser.error(f"unknown queue(s) {', '.join(unknown)}; the queues are {', '.join(jobs.QUEUES)}")
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("REDIS_URL is not set: without it jobs run in-process, no worker is needed")
    metrics.serve_on_metrics_port()
    worker_class = ForkingAppWorker if args.fork else AppWorker
    worker = worker_class(args.queues, connection=jobs.redis_connection(url))
    worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()

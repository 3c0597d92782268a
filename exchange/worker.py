"""The rq worker: ``python -m exchange.worker [--burst] [queue ...]``.

The application is built once in the worker process, before rq forks a work
horse per job, so each job starts with the app loaded. Jobs open their own
database connections in the horse.
"""

from __future__ import annotations

import argparse
import os

from rq import Worker

from exchange import jobs


class AppWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        jobs.worker_app()  # build it here, inherited by every forked horse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("queues", nargs="*", default=list(jobs.QUEUES))
    args = parser.parse_args(argv)
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("REDIS_URL is not set: without it jobs run in-process, no worker is needed")
    worker = AppWorker(args.queues, connection=jobs.redis_connection(url))
    worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()

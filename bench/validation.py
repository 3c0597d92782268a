"""Lead validation throughput on real services against no-op rq jobs, in one run.

    python bench/validation.py [--leads 2000] [--noops 2000] [--workers 2] [--fork]

On PostgreSQL + Redis (a throwaway database ``lx_bench_validation`` beside
EXCHANGE_TEST_DATABASE_URL, Redis db 13, both on 127.0.0.1): submits N
leads (received, their jobs held back), starts the rq workers
(``python -m exchange.worker validation``) and waits until they are idle,
then enqueues the N validation jobs at once and waits until every lead is
decided. Then, with the same workers, enqueues N no-op jobs and waits until
they are done. Each rate is jobs / (last job's end - first job's start), read
from rq's own job records, so worker start-up is not counted. Prints:

    validation: leads_per_s=<n> noop_jobs_per_s=<n> ratio=<r>

Bounded: N jobs of each kind and at most --timeout seconds per phase; the
workers are stopped (SIGTERM, then SIGKILL) whatever happens.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_URL = "redis://127.0.0.1:6379/13"
DATABASE = "lx_bench_validation"


def noop() -> None:
    """The baseline job: rq's own cost per job, nothing else."""


NOOP = "bench.validation.noop"  # as the workers import it (this file runs as __main__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--noops", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fork", action="store_true", help="rq's forking worker (a horse per job)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per phase at most")
    args = parser.parse_args()
    from bench.clicks import fresh_database

    database_url = fresh_database(DATABASE)
    with tempfile.TemporaryDirectory() as instance:
        env = {
            **os.environ,
            "EXCHANGE_ENV": "development",
            "EXCHANGE_INSTANCE_PATH": instance,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "FLASK_APP": "wsgi.py",
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)
        app, lead_ids = prepare(args.leads)
        workers = [start_worker(env, args.fork) for _ in range(args.workers)]
        try:
            connection = redis_connection()
            wait_for_idle_workers(connection, args.workers, workers)
            leads_per_s = run_leads(app, connection, lead_ids, args.timeout)
            noops_per_s = run_noops(connection, args.noops, args.timeout)
        finally:
            for worker in workers:
                stop(worker)
    print(
        f"validation: leads_per_s={leads_per_s:.0f} noop_jobs_per_s={noops_per_s:.0f} "
        f"ratio={leads_per_s / noops_per_s:.2f}"
    )


def redis_connection():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def prepare(count: int):
    """Migrate; an advertiser funded for every lead, a webmaster on its offer; ``count``
    leads received and committed, their validation jobs discarded (enqueued later)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from exchange import create_app, jobs
    from exchange.actors import Actor
    from exchange.extensions import db
    from exchange.leads.intake import submit_lead
    from tests.factories import fund, lead_fields, make_join, make_offer, make_user

    redis_connection().flushdb()
    app = create_app()
    lead_ids = []
    with app.app_context():
        upgrade()
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        fund(advertiser, (count + 1) * 1500)
        offer = make_offer(advertiser, rate_minor=1500, payout_minor=1000)
        make_join(webmaster, offer)
        actor = Actor(kind="user", user_id=webmaster.id)
        for n in range(count):
            lead_ids.append(
                submit_lead(webmaster.id, {"offer_id": offer.id, "fields": lead_fields(n)}, actor).lead.id
            )
            db.session.commit()  # the session's own commit: the validation jobs stay pending...
            jobs.discard_pending()  # ...and are dropped; run_leads enqueues them all at once
        db.session.execute(text("ANALYZE"))  # statistics as autovacuum would keep them on a live table
        db.session.commit()
        db.session.remove()
    return app, lead_ids


def start_worker(env: dict, fork: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "exchange.worker", *(["--fork"] if fork else []), "validation"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for_idle_workers(connection, count: int, processes: list) -> None:
    from rq import Worker

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise SystemExit("a worker exited on start")
        workers = Worker.all(connection=connection)
        if len(workers) == count and all(worker.get_state() == "idle" for worker in workers):
            return
        time.sleep(0.05)
    raise SystemExit("the workers did not start")


def enqueue_all(connection, func: str, arguments: list[tuple], job_ids: list[str]) -> list[str]:
    """Enqueue every job in one pipeline, so that the workers, not the enqueuing, set the pace."""
    from rq import Queue

    from exchange.jobs import JOB_TIMEOUT_SECONDS

    queue = Queue("validation", connection=connection)
    data = [
        Queue.prepare_data(func, args=args, job_id=job_id, timeout=JOB_TIMEOUT_SECONDS, result_ttl=3600)
        for args, job_id in zip(arguments, job_ids, strict=True)
    ]
    return [job.id for job in queue.enqueue_many(data)]


def run_leads(app, connection, lead_ids: list[int], timeout: float) -> float:
    from rq import Queue
    from sqlalchemy import func, select

    from exchange.extensions import db
    from exchange.leads.models import Lead

    job_ids = enqueue_all(
        connection,
        "exchange.leads.jobs.validate_lead_job",
        [(lead_id,) for lead_id in lead_ids],
        [f"validate-lead-{lead_id}" for lead_id in lead_ids],
    )
    still_received = select(func.count()).select_from(Lead).where(Lead.status == "received")
    deadline = time.monotonic() + timeout
    with app.app_context():
        while db.session.scalar(still_received):
            db.session.rollback()
            if Queue("validation", connection=connection).failed_job_registry.count:
                raise SystemExit("a validation job failed; run python -m exchange.worker by hand to see why")
            if time.monotonic() > deadline:
                raise SystemExit(f"leads still received after {timeout:.0f} s")
            time.sleep(0.1)
        db.session.remove()
    return measured_rate(connection, job_ids, timeout)


def run_noops(connection, count: int, timeout: float) -> float:
    job_ids = enqueue_all(connection, NOOP, [()] * count, [f"noop-{n}" for n in range(count)])
    return measured_rate(connection, job_ids, timeout)


def measured_rate(connection, job_ids: list[str], timeout: float) -> float:
    """Jobs per second between the first job's start and the last job's end, once all are
    finished. A job that is gone was taken off the queue by a validation batch that did
    its work: it counts as done, within the batch's time."""
    from rq.job import Job

    deadline = time.monotonic() + timeout
    while True:
        jobs = [job for job in Job.fetch_many(job_ids, connection=connection) if job is not None]
        statuses = [job.get_status(refresh=False) for job in jobs]
        if all(status == "finished" for status in statuses):
            break
        if any(status == "failed" for status in statuses):
            raise SystemExit("a job failed; see the worker log (run python -m exchange.worker by hand)")
        if time.monotonic() > deadline:
            raise SystemExit(f"jobs not finished after {timeout:.0f} s")
        time.sleep(0.1)
    first = min(job.started_at for job in jobs)
    last = max(job.ended_at for job in jobs)
    return len(job_ids) / (last - first).total_seconds()


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()

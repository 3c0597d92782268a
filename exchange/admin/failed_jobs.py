"""Failed jobs, for admins: listed per queue (``/admin/jobs``) and re-queued
with ``flask jobs requeue-failed [--queue Q]``.

A job lands in rq's failed registry once it has raised on every retry (or
was abandoned by a dead worker with no retries left). Re-queuing is safe
because jobs are idempotent: one whose work was done meanwhile does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.jobs import QUEUES, redis_connection

EXCERPT_CHARS = 400
LISTED_PER_QUEUE = 100

jobs_cli = AppGroup("jobs", help="Background jobs on the rq queues (needs REDIS_URL).")


@dataclass(frozen=True)
class FailedJob:
    queue: str
    id: str
    function: str
    args: str
    error: str  # the end of the traceback, where the exception is
    failed_at: datetime | None


def redis_for_jobs():
    """The queue's Redis, or None when jobs run in-process (no REDIS_URL)."""
    url = current_app.config.get("REDIS_URL")
    return redis_connection(url) if url else None


def failed_jobs(connection, queues: tuple[str, ...] = QUEUES) -> dict[str, list[FailedJob]]:
    """The newest failed jobs of each queue (at most LISTED_PER_QUEUE), with their total count."""
    from rq import Queue

    listed: dict[str, list[FailedJob]] = {}
    for name in queues:
        registry = Queue(name, connection=connection).failed_job_registry
        ids = registry.get_job_ids(0, LISTED_PER_QUEUE - 1, desc=True)
        listed[name] = [_describe(name, job) for job in _fetch(connection, ids)]
    return listed


def failed_counts(connection, queues: tuple[str, ...] = QUEUES) -> dict[str, int]:
    from rq import Queue

    return {name: Queue(name, connection=connection).failed_job_registry.count for name in queues}


def requeue_failed(connection, queues: tuple[str, ...] = QUEUES) -> list[tuple[str, str]]:
    """Put every failed job of ``queues`` back on its queue; (queue, job id) of each one."""
    from rq import Queue
    from rq.exceptions import InvalidJobOperation, NoSuchJobError

    requeued = []
    for name in queues:
        registry = Queue(name, connection=connection).failed_job_registry
        for job_id in registry.get_job_ids():
            try:
                registry.requeue(job_id)
            except (NoSuchJobError, InvalidJobOperation):
                continue  # expired or removed meanwhile
            requeued.append((name, job_id))
    return requeued


def _fetch(connection, ids: list[str]) -> list:
    from rq.job import Job

    return [job for job in Job.fetch_many(ids, connection=connection) if job is not None]


def _describe(queue: str, job) -> FailedJob:
    result = job.latest_result()
    error = (result.exc_string if result and result.exc_string else job.exc_info) or ""
    return FailedJob(
        queue=queue,
        id=job.id,
        function=job.func_name,
        args=", ".join(repr(arg) for arg in job.args),
        error=error.strip()[-EXCERPT_CHARS:],
        failed_at=job.ended_at or (result.created_at if result else None),
    )


@jobs_cli.command("requeue-failed")
@click.option("--queue", "queue", type=click.Choice(QUEUES), help="Only this queue (default: all).")
def requeue_failed_command(queue: str | None) -> None:
    """Put failed jobs back on their queues and print each one."""
    connection = redis_for_jobs()
    if connection is None:
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, there is no failed queue")
    requeued = requeue_failed(connection, (queue,) if queue else QUEUES)
    for name, job_id in requeued:
        click.echo(f"requeued {job_id} on {name}")
    click.echo(f"{len(requeued)} failed job(s) requeued")

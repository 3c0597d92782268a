"""The queue adapter: one way to ask for background work, two ways to run it.

Services call ``enqueue_after_commit("exchange.leads.jobs.validate_lead_job", *args,
queue=..., job_id=...)``: the job is named by its dotted path, as rq stores it, so a service
never imports the ``jobs.py`` whose jobs call it back (that import was a cycle in each
feature). Nothing leaves before the transaction commits (``exchange.db.commit``); then
each job goes to rq on Redis when ``REDIS_URL`` is set, or runs right here,
in-process, when it is not. Jobs take ids, never objects, live in a feature's ``jobs.py``
and are wrapped with ``@job`` so that an rq worker gets an application context. ("Task"
is a user's long task: exchange/longjobs/.)
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context

from exchange import logs, metrics
from exchange.config import BaseConfig
from exchange.extensions import db

log = logging.getLogger(__name__)

QUEUES = ("validation", "delivery", "postbacks", "billing", "periodic", "tasks")  # on rq
# Queues kept in the database: in-process, their jobs run after the commit like any other;
# with Redis nothing is sent, since their consumer claims the rows itself (auctions: the
# auctioneer, ``flask exchange auctioneer``, runs many at once; docs/exchange.md).
DATABASE_QUEUES = ("auctions",)
_PENDING_KEY = "exchange.pending_jobs"
_IN_PROCESS: ContextVar[bool] = ContextVar("jobs_in_process", default=False)


@dataclass(frozen=True)
class JobRequest:
    func: str  # the job's dotted path: "exchange.leads.jobs.validate_lead_job"
    args: tuple
    queue: str
    job_id: str | None


def summary(counts: dict[str, int]) -> str:
    """What a periodic job did, as its result and log line: ``auto_approved=1 funded=0``."""
    return " ".join(f"{name}={count}" for name, count in counts.items())


def enqueue_after_commit(func: str, *args: Any, queue: str, job_id: str | None = None) -> None:
    if queue not in QUEUES + DATABASE_QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if not isinstance(func, str) or "." not in func:
        raise TypeError(f"a job is named by its dotted path, not {func!r}")
    db.session.info.setdefault(_PENDING_KEY, []).append(JobRequest(func, args, queue, job_id))


def job_function(path: str) -> Callable[..., Any]:
    """The function a dotted job path names (what rq does with it on a worker)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def dispatch_after_commit() -> None:
    pending = db.session.info.pop(_PENDING_KEY, [])
    for request in pending:
        dispatch(request)


def discard_pending() -> None:
    db.session.info.pop(_PENDING_KEY, None)


@contextmanager
def in_process() -> Iterator[None]:
    """Inside, every job runs in this process right after the commit that asked for it, as
    without ``REDIS_URL``: for work whose next step needs what the jobs before it did (the
    demo's seed validates each lead before deciding it)."""
    token = _IN_PROCESS.set(True)
    try:
        yield
    finally:
        _IN_PROCESS.reset(token)


def dispatch(request: JobRequest) -> None:
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url or _IN_PROCESS.get():
        _run_in_process(request)
        return
    if request.queue in DATABASE_QUEUES:
        return
    try:
        _enqueue_rq(redis_url, request)
    except Exception:
        # The rows are committed; the sweep finds work that never reached
        # the queue (leads still received) and enqueues it again.
        log.exception("could not enqueue %s on %s; the sweep will retry", request.job_id, request.queue)


WAITING = ("queued", "scheduled", "deferred")  # the job will still run: queuing it again adds nothing
# Declared in exchange/config.py (the config of the running app may change them).
JOB_TIMEOUT_SECONDS = BaseConfig.JOB_TIMEOUT_SECONDS
RETRY_INTERVALS_SECONDS = BaseConfig.JOB_RETRY_INTERVALS
ABANDONED_GRACE_SECONDS = 5
# The queues whose jobs have a timeout of their own: longer (tasks), shorter (validation).
QUEUE_TIMEOUT_SETTINGS = {"tasks": "TASK_JOB_TIMEOUT_SECONDS", "validation": "VALIDATION_JOB_TIMEOUT_SECONDS"}


def _enqueue_rq(redis_url: str, request: JobRequest) -> None:
    from rq import Queue, Retry
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    connection = redis_connection(redis_url)
    if request.job_id:
        try:
            existing = Job.fetch(request.job_id, connection=connection)
        except NoSuchJobError:
            existing = None
        if existing is not None and _still_to_run(existing):
            return  # the same work is already waiting or running: do not queue it twice
        if existing is not None and existing.get_status() == "started":
            _forget_executions(existing)  # a dead worker's: rq's own cleanup must not act on them later
    config = current_app.config
    intervals = list(config["JOB_RETRY_INTERVALS"])
    queue = Queue(request.queue, connection=connection)
    queue.enqueue_call(
        func=request.func,
        args=request.args,
        job_id=request.job_id,
        timeout=job_timeout(request.queue),
        retry=Retry(max=len(intervals), interval=intervals),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def job_timeout(queue: str) -> int:
    """How long a job on ``queue`` may run before rq stops it (seconds): the long tasks'
    own timeout on ``tasks``, the common one elsewhere."""
    setting = QUEUE_TIMEOUT_SETTINGS.get(queue, "JOB_TIMEOUT_SECONDS")
    return current_app.config[setting]


def drop_waiting(queue: str, job_ids: list[str]) -> int:
    """Take jobs whose work is already done off ``queue``, those still waiting in it (a job
    a worker has already taken runs, finds nothing to do and ends). Returns how many went.
    Best effort: if Redis cannot be reached, the jobs simply run for nothing."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url or not job_ids:
        return 0
    from rq import Queue
    from rq.job import Job

    connection = redis_connection(redis_url)
    try:
        pipe = connection.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.lrem(Queue(queue, connection=connection).key, 1, job_id)
        removed = [job_id for job_id, count in zip(job_ids, pipe.execute(), strict=True) if count]
        if removed:  # off the queue, so no worker can be running them: their records can go
            connection.delete(*(Job.key_for(job_id) for job_id in removed))
    except Exception:
        log.exception("could not drop %d done jobs from %s; they will run for nothing", len(job_ids), queue)
        return 0
    return len(removed)


def _still_to_run(job) -> bool:
    status = job.get_status()
    return status in WAITING or (status == "started" and not abandoned(job))


def abandoned(job) -> bool:
    """A job still marked started after its timeout (plus a grace): a live worker
    would have stopped it by then, so its worker died (SIGKILL, a lost machine).
    rq itself notices only minutes later; until then the sweep may queue the
    work again (jobs are idempotent, so a second run does nothing)."""
    from rq.utils import now

    if job.started_at is None:
        return False
    limit = (
        job.timeout if job.timeout and job.timeout > 0 else JOB_TIMEOUT_SECONDS
    ) + ABANDONED_GRACE_SECONDS
    return now() - job.started_at > timedelta(seconds=limit)


def _forget_executions(job) -> None:
    registry = job.started_job_registry
    stale = [
        f"{job_id}:{execution_id}"
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False)
        if job_id == job.id
    ]
    if stale:
        job.connection.zrem(registry.key, *stale)


def _run_in_process(request: JobRequest) -> None:
    """Run the job now, in its own unit of work, after the caller's commit."""
    try:
        with logs.job_context(request.job_id, request.queue):
            job_function(request.func)(*request.args)
    except Exception:
        db.session.rollback()
        discard_pending()  # jobs the failed job asked for must not leave with the next commit
        if current_app.config.get("JOBS_RAISE_ERRORS"):
            raise
        log.exception("in-process job %s failed; the sweep will retry", request.job_id)


@functools.cache
def redis_connection(url: str):
    """One client per URL and process (thread-safe, pooled; building one costs
    more than a round trip, so the click path must not do it per request)."""
    import redis

    return redis.Redis.from_url(url)


_worker_app: Any = None  # the application a worker process runs its jobs in (one per process)


def serve_jobs_from(app: Any) -> None:
    """Run this process's jobs in ``app`` (``exchange.worker`` builds it once, at start)."""
    global _worker_app
    _worker_app = app


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a job an application context when a worker runs it."""

    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        if has_app_context():
            with metrics.timed_job(func.__name__):
                return func(*args)
        if _worker_app is None:
            raise RuntimeError("no application for jobs: run them with python -m exchange.worker")
        with _worker_app.app_context(), metrics.timed_job(func.__name__):
            try:
                return func(*args)
            finally:
                db.session.remove()

    return wrapper

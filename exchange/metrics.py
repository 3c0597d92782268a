"""Metrics: what this process counted, in Prometheus' format (docs/operations.md, "Metrics").

The counters and histograms below are kept by every process that does the work they count
(gunicorn's workers, rq's workers, the flusher); ``/metrics`` (exchange/metrics_endpoint.py)
serves them with what is read at the moment of the scrape (queues, the click buffer, the
oldest received lead). With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment before any
of them starts, the processes of one machine write their numbers to files in that directory
and any one of them answers for all (prometheus-client's multiprocess mode: gunicorn's
workers, the rq workers and the flusher of a machine share one directory, emptied when the
stack starts).

Work done in a transaction is counted when the transaction commits (``count_on_commit``):
a lead moved, transfers recorded or clicks stored in a transaction that rolls back are not
counted. (A savepoint rolled back inside a transaction that commits is: the intake's race on
an idempotency key, rare, may count a submission twice.)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_PENDING = "metrics_on_commit"  # session.info: the increments waiting for the commit
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_JOB_SECONDS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0)

HTTP_REQUESTS = Counter(
    "exchange_http_requests",
    "Requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "exchange_http_request_duration_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=_SECONDS,
)
CLICKS_ANSWERED = Counter(
    "exchange_clicks_answered", "Clicks recorded and answered (a redirect or the plain page)."
)
CLICKS_STORED = Counter(
    "exchange_clicks_stored", "Clicks written to the database (directly or by the flusher)."
)
LEAD_TRANSITIONS = Counter(
    "exchange_lead_transitions", "Leads moved from one status to another.", ["from_status", "to_status"]
)
LEDGER_TRANSFERS = Counter(
    "exchange_ledger_transfers",
    "Transfers recorded in the ledger, by kind (posted, pending, post_pending, void_pending) and by the"
    " account credited (owner:purpose, e.g. platform:revenue).",
    ["kind", "credit"],
)
OUTBOUND_CALLS = Counter(
    "exchange_outbound_calls",
    "Attempts of outbound calls (webmaster postbacks, lead deliveries), by kind and outcome.",
    ["kind", "outcome"],
)
OUTBOUND_SECONDS = Histogram(
    "exchange_outbound_call_duration_seconds",
    "Time an outbound call took, by kind.",
    ["kind"],
    buckets=_SECONDS,
)
JOB_SECONDS = Histogram(
    "exchange_job_duration_seconds",
    "Time a job ran, by job and outcome.",
    ["job", "outcome"],
    buckets=_JOB_SECONDS,
)
JOB_LAST_FINISHED = Gauge(
    "exchange_job_last_finished_timestamp_seconds",
    "When a job last finished (Unix time), by job: the sweep's steps are jobs named sweep_*_job.",
    ["job"],
    multiprocess_mode="mostrecent",
)


def count_on_commit(counter: Counter, labels: tuple[str, ...] = (), amount: float = 1) -> None:
    """Add ``amount`` to ``counter`` when the current transaction commits (not if it rolls back)."""
    from exchange.extensions import db

    db.session.info.setdefault(_PENDING, []).append((counter, labels, amount))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, labels, amount in session.info.pop(_PENDING, ()):
        (counter.labels(*labels) if labels else counter).inc(amount)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: after a commit its counts are applied already; after
    a rollback or a close they go."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@contextmanager
def timed_job(name: str) -> Iterator[None]:
    """Time a job's run, and when it ended well, when."""
    started = time.monotonic()
    outcome = "failed"
    try:
        yield
        outcome = "finished"
    finally:
        JOB_SECONDS.labels(name, outcome).observe(time.monotonic() - started)
        if outcome == "finished":
            JOB_LAST_FINISHED.labels(name).set(time.time())


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(endpoint, method, str(status)).inc()
    HTTP_SECONDS.labels(endpoint).observe(seconds)


def counted_registry() -> CollectorRegistry:
    """Every process's numbers (multiprocess mode), else this process's own."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def serve_on_metrics_port() -> None:
    """With METRICS_PORT in the environment, answer scrapes on it from a thread of this
    process (an rq worker or a flusher on a machine where no web process runs), on
    METRICS_HOST (default 127.0.0.1)."""
    if port := os.environ.get("METRICS_PORT"):
        start_http_server(
            int(port), addr=os.environ.get("METRICS_HOST", "127.0.0.1"), registry=counted_registry()
        )


def init_app(app: Flask) -> None:
    """With METRICS_ENABLED, time and count every request Flask answers (the click fast
    path counts its own: exchange/tracking/fastpath.py)."""
    if not app.config["METRICS_ENABLED"]:
        return
    app.before_request(_start_timer)
    app.after_request(_observe)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        # The endpoint's name, never the path: a label per URL would grow without end.
        seconds = time.perf_counter() - started
        observe_request(request.endpoint or "unmatched", request.method, response.status_code, seconds)
    return response

"""``GET /metrics`` for Prometheus (docs/operations.md, "Metrics"), with METRICS_ENABLED.

It answers what this machine's processes counted (exchange/metrics.py; every process's
files in multiprocess mode) and what is read at the moment of the scrape, the same for
whichever process answers: each rq queue's depth, its oldest job's age and its failed jobs;
the click buffer's length and its oldest click's age; the age of the oldest lead still
``received``; how long ago a scheduler (``rq cron``) last beat its heart. With METRICS_TOKEN
set, a scrape must carry it (``Authorization: Bearer …``), else it is answered 404 as
though there were nothing here; without METRICS_ENABLED it is always 404.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from exchange import clock, jobs
from exchange.extensions import db
from exchange.health import SCHEDULERS_KEY, redis_for_probes
from exchange.leads.domain import RECEIVED
from exchange.leads.models import Lead
from exchange.metrics import counted_registry
from exchange.tracking.buffer import BUFFER_KEY

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    if not current_app.config["METRICS_ENABLED"] or not _authorised(current_app.config["METRICS_TOKEN"]):
        abort(404)
    registry = CollectorRegistry()
    registry.register(StateCollector(current_app.config["REDIS_URL"]))
    counted = counted_registry()
    return Response(generate_latest(counted) + generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _authorised(token: str | None) -> bool:
    if not token:
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return hmac.compare_digest(given.encode(), token.encode())


class StateCollector(Collector):
    """What is read at the scrape; a source that cannot be read is left out (and logged):
    the scrape still answers, and an alert on a missing series tells."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._guarded("database", self._leads)
        if self.redis_url:
            redis = redis_for_probes(self.redis_url)
            yield from self._guarded("queues", lambda: self._queues(redis))
            yield from self._guarded("click buffer", lambda: self._click_buffer(redis))
            yield from self._guarded("scheduler", lambda: self._scheduler(redis))

    def _guarded(self, source: str, read) -> list[GaugeMetricFamily]:
        try:
            return list(read())
        except Exception as error:  # a scrape reports what it can
            log.warning("metrics: %s not read: %s", source, type(error).__name__)
            return []

    def _leads(self) -> Iterator[GaugeMetricFamily]:
        try:
            oldest = db.session.scalar(select(func.min(Lead.created_at)).where(Lead.status == RECEIVED))
        finally:
            db.session.rollback()
        yield GaugeMetricFamily(
            "exchange_oldest_received_lead_age_seconds",
            "Age of the oldest lead not yet validated (0 when none waits).",
            value=_age(oldest),
        )

    def _queues(self, redis) -> Iterator[GaugeMetricFamily]:
        from rq import Queue
        from rq.job import Job

        depth = GaugeMetricFamily("exchange_queue_jobs", "Jobs waiting in each rq queue.", labels=["queue"])
        oldest = GaugeMetricFamily(
            "exchange_queue_oldest_job_age_seconds",
            "Age of the oldest job waiting in each rq queue (0 when none waits).",
            labels=["queue"],
        )
        failed = GaugeMetricFamily(
            "exchange_queue_failed_jobs", "Failed jobs of each rq queue.", labels=["queue"]
        )
        for name in jobs.QUEUES:
            queue = Queue(name, connection=redis)
            depth.add_metric([name], queue.count)
            first = queue.get_job_ids(0, 1)
            job = Job.fetch(first[0], connection=redis) if first else None
            oldest.add_metric([name], _age(job.enqueued_at if job else None))
            failed.add_metric([name], queue.failed_job_registry.count)
        yield from (depth, oldest, failed)

    def _click_buffer(self, redis) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "exchange_click_buffer_length",
            "Clicks answered and waiting for the flusher.",
            value=redis.llen(BUFFER_KEY),
        )
        first = redis.lindex(BUFFER_KEY, 0)
        created = datetime.fromisoformat(json.loads(first)["created_at"]) if first else None
        yield GaugeMetricFamily(
            "exchange_click_buffer_oldest_age_seconds",
            "Age of the oldest click waiting for the flusher (0 when none waits).",
            value=_age(created),
        )

    def _scheduler(self, redis) -> Iterator[GaugeMetricFamily]:
        freshest = redis.zrevrange(SCHEDULERS_KEY, 0, 0, withscores=True)
        if freshest:
            yield GaugeMetricFamily(
                "exchange_scheduler_heartbeat_age_seconds",
                "Seconds since a scheduler (rq cron) last beat its heart; absent when none ever ran.",
                value=_age(datetime.fromtimestamp(freshest[0][1], UTC)),
            )


def _age(since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is not None:  # rq's times are aware; ours are naive UTC (exchange/clock.py)
        since = since.astimezone(UTC).replace(tzinfo=None)
    return max((clock.now() - since).total_seconds(), 0.0)

"""Top-up jobs: a Stripe event processed (``stripe-event-<id>``), and the periodic step that
queues again the events whose job was lost (``sweep-stripe-events``). They commit."""

from __future__ import annotations

import logging

from billing.topups.services import enqueue_event, process_event, unprocessed_event_ids
from exchange.db import commit, requeue_each
from exchange.jobs import job, summary

log = logging.getLogger(__name__)


@job
def process_stripe_event_job(event_id: str) -> str:
    outcome = process_event(event_id)
    commit()
    log.info("stripe-event-%s: %s", event_id, outcome)
    return outcome


def requeue_stripe_events() -> dict[str, int]:
    return {"stripe_events": requeue_each(unprocessed_event_ids(), enqueue_event)}


@job
def requeue_stripe_events_job() -> str:
    return summary(requeue_stripe_events())

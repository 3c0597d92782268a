"""Jobs about money. They take ids, do one unit of work, and commit."""

from __future__ import annotations

import logging

from billing.topups.services import process_event
from exchange.db import commit
from exchange.jobs import job

log = logging.getLogger(__name__)


@job
def process_stripe_event_job(event_id: str) -> str:
    outcome = process_event(event_id)
    commit()
    log.info("stripe-event-%s: %s", event_id, outcome)
    return outcome

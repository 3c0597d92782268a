"""Jobs about exchange leads."""

from __future__ import annotations

import logging

from exchange.db import commit
from exchange.jobs import job, summary
from exchange.selling.sweep import sweep_exchange
from exchange.selling.validation import validate_exchange_lead

log = logging.getLogger(__name__)


@job
def validate_exchange_lead_job(lead_id: int) -> str:
    status = validate_exchange_lead(lead_id)
    commit()  # the auction it opened is dispatched now
    log.info("validate-lead-%s: %s", lead_id, status)
    return status


@job
def sweep_exchange_job() -> str:
    """The exchange's periodic step (exchange/periodic.py, ``sweep-exchange``)."""
    return summary(sweep_exchange())

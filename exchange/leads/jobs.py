"""Jobs about leads. They take ids, do one unit of work, and commit."""

from __future__ import annotations

import logging

from flask import current_app

from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.jobs import drop_waiting, job, summary
from exchange.leads.decisions import approve_if_auto_approved, approve_if_reported_approved
from exchange.leads.domain import RECEIVED
from exchange.leads.intake import validation_job_id
from exchange.leads.models import Lead
from exchange.leads.sweep import fund_in_arrival_order, sweep_leads
from exchange.leads.validation import validate_batch, validate_one
from exchange.offers.funding import align_offers_with_funds

log = logging.getLogger(__name__)


@job
def validate_lead_job(lead_id: int) -> str:
    """Decide the lead and, on rq workers, the received leads after it (a batch of up to
    ``VALIDATION_BATCH_SIZE``); the jobs of the others are then taken off the queue."""
    size = current_app.config["VALIDATION_BATCH_SIZE"] if current_app.config.get("REDIS_URL") else 1
    verdicts = validate_batch(lead_id, size) if size > 1 else validate_one(lead_id)
    for verdict in verdicts:
        approve_if_reported_approved(verdict.lead)
        approve_if_auto_approved(verdict.lead, verdict.offer)
    others = [v.lead.id for v in verdicts if v.lead.id != lead_id and v.lead.status != RECEIVED]
    commit()
    drop_waiting("validation", [validation_job_id(other) for other in others])
    lead = db.session.get(Lead, lead_id)
    status = lead.status if lead else "missing"
    log.info("validate-lead-%s: %s (in a batch of %d)", lead_id, status, len(verdicts))
    return status


@job
def fund_waiting_leads_job(advertiser_id: int, currency: str) -> int:
    """Money arrived: fund waiting leads oldest first, then resume (or keep paused) the
    advertiser's offers by what is left."""
    funded = fund_in_arrival_order(advertiser_id, currency, Actor.system("funding"))
    align_offers_with_funds(advertiser_id, currency)
    commit()
    return funded


@job
def sweep_leads_job() -> str:
    """The leads' periodic step (exchange/periodic.py, ``sweep-leads``)."""
    return summary(sweep_leads())

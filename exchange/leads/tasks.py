"""Jobs about leads. They take ids, do one unit of work, and commit."""

from __future__ import annotations

import logging

from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.jobs import task
from exchange.leads.decisions import approve_if_auto_approved, approve_if_reported_approved
from exchange.leads.domain import PENDING
from exchange.leads.models import Lead
from exchange.leads.sweep import fund_in_arrival_order, sweep
from exchange.leads.validation import validate
from exchange.offers.models import Offer

log = logging.getLogger(__name__)


@task
def validate_lead_job(lead_id: int) -> str:
    status = validate(lead_id)
    if status == PENDING:
        lead = db.session.get(Lead, lead_id)
        approve_if_reported_approved(lead)
        approve_if_auto_approved(lead, db.session.get(Offer, lead.offer_id))
        status = lead.status
    commit()
    log.info("validate-lead-%s: %s", lead_id, status)
    return status


@task
def fund_waiting_leads_job(advertiser_id: int, currency: str) -> int:
    return fund_in_arrival_order(advertiser_id, currency, Actor.system("funding"))


@task
def sweep_job() -> str:
    return str(sweep())

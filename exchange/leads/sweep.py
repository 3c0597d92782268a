"""The leads' sweep step: the work that time makes due on leads. Safe to run at any moment,
twice (exchange/periodic.py runs it with the other features' steps).

Each part takes the ids that are due, then handles each one in its own small transaction
(``exchange.db.in_own_transaction``), so one bad row cannot hold up the rest and a crash
loses nothing (the next sweep finds what is still due).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from exchange import clock
from exchange.actors import Actor
from exchange.db import StepBudget, in_own_transaction, requeue_each
from exchange.extensions import db
from exchange.jobs import summary
from exchange.leads.decisions import approve_lead, fund_waiting_lead, release_hold, waiting_lead_ids
from exchange.leads.domain import APPROVED, AWAITING_FUNDS, PENDING, RECEIVED
from exchange.leads.intake import enqueue_validation
from exchange.leads.models import Lead
from exchange.leads.validation import lock_lead

SWEEPER = Actor.system("sweep")
log = logging.getLogger(__name__)


def sweep_leads() -> dict[str, int]:
    """Approve leads whose review window ended, release holds that ended, fund waiting leads
    (oldest first, before any stuck lead is judged again), and queue again the leads stuck in
    ``received`` (a job lost with Redis, a killed worker); within a ``StepBudget``, whose
    deadline the queuing again, quick, does not wait for."""
    budget = StepBudget.from_config()
    counts = {"auto_approved": 0, "holds_released": 0, "funded": 0, "requeued": 0}
    now = clock.now()
    due = select(Lead.id).where(Lead.status == PENDING, Lead.review_deadline <= now)
    for lead_id in budget.each(_ids(budget.limit(due))):
        counts["auto_approved"] += in_own_transaction(_auto_approve, lead_id)
    ended = select(Lead.id).where(
        Lead.status == APPROVED, Lead.hold_released_at.is_(None), Lead.hold_until <= now
    )
    for lead_id in budget.each(_ids(budget.limit(ended))):
        counts["holds_released"] += in_own_transaction(release_hold, lead_id)
    waiting = db.session.execute(
        budget.limit(
            select(Lead.advertiser_id, Lead.currency).where(Lead.status == AWAITING_FUNDS).distinct()
        )
    ).all()
    for advertiser_id, currency in budget.each(waiting):
        counts["funded"] += fund_in_arrival_order(advertiser_id, currency, SWEEPER)
    stuck_since = now - timedelta(seconds=current_app.config["STUCK_RECEIVED_SECONDS"])
    stuck = select(Lead.id).where(
        Lead.status == RECEIVED, Lead.updated_at <= stuck_since, Lead.offer_id.is_not(None)
    )  # exchange leads: exchange.selling's own step
    counts["requeued"] = requeue_each(_ids(budget.limit(stuck)), enqueue_validation)
    if budget.cut_short:
        log.info("sweep-leads: out of time after %s; the rest waits for the next run", summary(counts))
    return counts


def fund_in_arrival_order(advertiser_id: int, currency: str, actor: Actor) -> int:
    """Fund waiting leads oldest first, one transaction each, until the money runs short."""
    funded = 0
    for lead_id in waiting_lead_ids(advertiser_id, currency):
        if not in_own_transaction(lambda key: fund_waiting_lead(key, actor), lead_id):
            break
        funded += 1
    return funded


def _auto_approve(lead_id: int) -> bool:
    lead = lock_lead(lead_id)
    if lead.status != PENDING or lead.review_deadline > clock.now():
        return False
    approve_lead(lead_id, SWEEPER, action="auto_approve", note="review window ended")
    return True


def _ids(query) -> list:
    return list(db.session.scalars(query.order_by(Lead.id)))

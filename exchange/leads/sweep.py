"""The sweep: the work that time makes due. Safe to run at any moment, twice.

Each step takes the ids that are due, then handles each one in its own
small transaction, so one bad row cannot hold up the rest and a crash
loses nothing (the next sweep finds what is still due).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from billing.topups.services import enqueue_event, unprocessed_event_ids
from exchange import clock
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.delivery.leads.services import due_lead_ids, enqueue_lead_delivery
from exchange.delivery.postbacks.services import due_delivery_ids, enqueue_send
from exchange.disputes.resolution import escalate_if_overdue, overdue_dispute_ids
from exchange.errors import Conflict
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, fund_waiting_lead, release_hold, waiting_lead_ids
from exchange.leads.domain import APPROVED, AWAITING_FUNDS, PENDING, RECEIVED
from exchange.leads.intake import enqueue_validation
from exchange.leads.models import Lead
from exchange.leads.validation import lock_lead
from exchange.longjobs.services import expire_results, stuck_task_ids
from exchange.longjobs.services import requeue as requeue_task

log = logging.getLogger(__name__)
SWEEPER = Actor.system("sweep")


@dataclass
class SweepReport:
    auto_approved: int = 0
    holds_released: int = 0
    funded: int = 0
    requeued: int = 0
    postbacks_due: int = 0
    deliveries_due: int = 0
    stripe_events: int = 0
    disputes_escalated: int = 0
    tasks_requeued: int = 0
    tasks_expired: int = 0

    def __str__(self) -> str:
        return (
            f"auto_approved={self.auto_approved} holds_released={self.holds_released} "
            f"funded={self.funded} requeued={self.requeued} postbacks_due={self.postbacks_due} "
            f"deliveries_due={self.deliveries_due} stripe_events={self.stripe_events} "
            f"disputes_escalated={self.disputes_escalated} tasks_requeued={self.tasks_requeued} "
            f"tasks_expired={self.tasks_expired}"
        )


def sweep() -> SweepReport:
    report = SweepReport()
    now = clock.now()
    for lead_id in _ids(select(Lead.id).where(Lead.status == PENDING, Lead.review_deadline <= now)):
        report.auto_approved += _each(lead_id, _auto_approve)
    for lead_id in _ids(
        select(Lead.id).where(
            Lead.status == APPROVED, Lead.hold_released_at.is_(None), Lead.hold_until <= now
        )
    ):
        report.holds_released += _each(lead_id, release_hold)
    waiting = db.session.execute(
        select(Lead.advertiser_id, Lead.currency).where(Lead.status == AWAITING_FUNDS).distinct()
    ).all()
    for advertiser_id, currency in waiting:
        report.funded += fund_in_arrival_order(advertiser_id, currency, SWEEPER)
    stuck_since = now - timedelta(seconds=current_app.config["STUCK_RECEIVED_SECONDS"])
    for lead_id in _ids(select(Lead.id).where(Lead.status == RECEIVED, Lead.updated_at <= stuck_since)):
        enqueue_validation(lead_id)
        report.requeued += 1
    for delivery_id in due_delivery_ids():  # retries whose time came, and jobs lost on the way
        enqueue_send(delivery_id)
        report.postbacks_due += 1
    for lead_id in due_lead_ids():  # the same for deliveries of leads to their advertisers
        enqueue_lead_delivery(lead_id)
        report.deliveries_due += 1
    for dispute_id in overdue_dispute_ids():  # no answer in time: to the moderators
        report.disputes_escalated += _each(dispute_id, escalate_if_overdue)
    for event_id in unprocessed_event_ids():  # Stripe events whose job was lost
        enqueue_event(event_id)
        report.stripe_events += 1
    for task_id in stuck_task_ids():  # exports and imports whose worker died
        requeue_task(task_id)
        report.tasks_requeued += 1
    report.tasks_expired = _each(now, expire_results)  # finished tasks' files past TASK_RESULT_DAYS
    commit()
    return report


def fund_in_arrival_order(advertiser_id: int, currency: str, actor: Actor) -> int:
    """Fund waiting leads oldest first, one transaction each, until the money runs short."""
    funded = 0
    for lead_id in waiting_lead_ids(advertiser_id, currency):
        if not _each(lead_id, lambda key: fund_waiting_lead(key, actor)):
            break
        funded += 1
    return funded


def _auto_approve(lead_id: int) -> bool:
    lead = lock_lead(lead_id)
    if lead.status != PENDING or lead.review_deadline > clock.now():
        return False
    approve_lead(lead_id, SWEEPER, action="auto_approve", note="review window ended")
    return True


def _each(key, step) -> int:
    """Run one step in its own transaction; log and go on if it fails."""
    try:
        done = step(key)
        commit()
        return int(done)
    except Conflict:
        rollback()
        return 0
    except Exception:
        rollback()
        if current_app.config.get("JOBS_RAISE_ERRORS"):
            raise
        log.exception("sweep step failed for %s", key)
        return 0


def _ids(query) -> list:
    return list(db.session.scalars(query.order_by(Lead.id)))

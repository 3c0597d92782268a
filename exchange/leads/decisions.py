"""Decisions on accepted leads: approve, reject, return; funding waiting leads."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from billing.services import (
    approve_lead_charge,
    release_lead_hold,
    reverse_lead_charge,
    void_lead_reservation,
)
from exchange import clock
from exchange.actors import Actor
from exchange.errors import Conflict, NotFound
from exchange.extensions import db
from exchange.leads.domain import APPROVED, AWAITING_FUNDS, PENDING, REJECTED, RETURNED
from exchange.leads.models import Lead
from exchange.leads.transitions import move
from exchange.leads.validation import accept_if_funded, lock_lead, price_of
from exchange.offers.models import Offer


def advertiser_lead(advertiser_id: int, lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None or lead.advertiser_id != advertiser_id:
        raise NotFound("No such lead.")
    return lead


def approve_lead(lead: Lead, actor: Actor, *, action: str = "approve", note: str | None = None) -> Lead:
    """Approve a pending lead: post its reserved price, start its hold. Once."""
    if lead.status == APPROVED:
        return lead
    if lead.status != PENDING:
        raise Conflict(
            f"Only a pending lead can be approved; this one is {lead.status}.", code="lead_not_pending"
        )
    offer = db.session.get(Offer, lead.offer_id)
    now = clock.now()
    if not move(
        lead,
        action,
        actor,
        note,
        approved_at=now,
        hold_until=now + timedelta(seconds=offer.hold_seconds),
        decision_note=note,
    ):
        return _already(lead, APPROVED)
    approve_lead_charge(price_of(lead))
    return lead


def reject_lead(lead: Lead, actor: Actor, note: str | None = None) -> Lead:
    """Reject a pending lead: void its reservation. Once."""
    if lead.status == REJECTED:
        return lead
    if lead.status != PENDING:
        raise Conflict(
            f"Only a pending lead can be rejected; this one is {lead.status}.", code="lead_not_pending"
        )
    codes = ["advertiser_rejected"]
    if not move(lead, "reject", actor, note, reason_codes=codes, decision_note=note):
        return _already(lead, REJECTED)
    void_lead_reservation(price_of(lead))
    return lead


def return_lead(lead: Lead, actor: Actor, note: str | None = None) -> Lead:
    """Return an approved lead whose payout is still on hold."""
    if lead.status == RETURNED:
        return lead
    if lead.status != APPROVED or lead.hold_released_at is not None:
        raise Conflict("Only an approved lead still on hold can be returned.", code="lead_not_returnable")
    if not move(lead, "return", actor, note, decision_note=note):
        return _already(lead, RETURNED)
    reverse_lead_charge(price_of(lead))
    return lead


def release_hold(lead_id: int) -> bool:
    """Move an approved lead's payout from hold to available, once."""
    lead = lock_lead(lead_id)
    if lead is None or lead.status != APPROVED or lead.hold_released_at is not None:
        return False
    if lead.hold_until is None or lead.hold_until > clock.now():
        return False
    lead.hold_released_at = clock.now()
    release_lead_hold(price_of(lead))
    db.session.flush()
    return True


def fund_waiting_leads(advertiser_id: int, currency: str) -> int:
    """Reserve waiting leads in arrival order until the balance runs short."""
    funded = 0
    waiting_ids = db.session.scalars(
        select(Lead.id)
        .where(Lead.advertiser_id == advertiser_id, Lead.currency == currency, Lead.status == AWAITING_FUNDS)
        .order_by(Lead.id)
    ).all()
    for lead_id in waiting_ids:
        lead = lock_lead(lead_id)
        if lead.status != AWAITING_FUNDS:
            continue
        offer = db.session.get(Offer, lead.offer_id)
        if accept_if_funded(lead, offer, action="fund") != PENDING:
            break
        funded += 1
    return funded


def _already(lead: Lead, wanted: str) -> Lead:
    if lead.status == wanted:
        return lead
    raise Conflict(f"The lead is {lead.status} now.", code="lead_changed")

"""Decisions on accepted leads: approve, reject, return, reinstate; funding waiting leads.

Every decision locks the lead's row first and checks its state under that
lock, then moves it: a decision racing the sweep or another request sees
the other's result, never the state both started from. Locks are taken in
one order everywhere: the lead's row, then the account rows by id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from billing.services import (
    approve_lead_charge,
    release_lead_hold,
    reverse_lead_charge,
    void_lead_reservation,
)
from exchange import clock
from exchange.actors import Actor
from exchange.disputes.queries import return_disputed
from exchange.errors import Conflict, NotFound
from exchange.extensions import db
from exchange.leads.domain import APPROVED, AWAITING_FUNDS, PENDING, REJECTED, RETURNED
from exchange.leads.models import Lead
from exchange.leads.transitions import move
from exchange.leads.validation import accept_if_funded, lock_lead, price_of
from exchange.leads.windows import return_refusal
from exchange.offers.models import Offer


def advertiser_lead(advertiser_id: int, lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None or lead.advertiser_id != advertiser_id:
        raise NotFound("No such lead.")
    return lead


def approve_lead(lead_id: int, actor: Actor, *, action: str = "approve", note: str | None = None) -> Lead:
    """Approve a pending lead: post its reserved price, start its hold. Once."""
    lead = lock_lead(lead_id)
    if lead.status == APPROVED:
        return lead
    if lead.status != PENDING:
        raise Conflict(
            f"Only a pending lead can be approved; this one is {lead.status}.", code="lead_not_pending"
        )
    offer = db.session.get(Offer, lead.offer_id)
    now = clock.now()
    deadlines = {
        "hold_until": now + timedelta(seconds=offer.hold_seconds),
        "return_until": now + timedelta(seconds=offer.return_window_seconds),
    }
    _moved(move(lead, action, actor, note, approved_at=now, decision_note=note, **deadlines))
    approve_lead_charge(price_of(lead))
    return lead


def reject_lead(lead_id: int, actor: Actor, note: str | None = None) -> Lead:
    """Reject a pending lead within its review window: void its reservation. Once."""
    lead = lock_lead(lead_id)
    if lead.status == REJECTED:
        return lead
    if lead.status != PENDING:
        raise Conflict(
            f"Only a pending lead can be rejected; this one is {lead.status}.", code="lead_not_pending"
        )
    if lead.review_deadline is not None and lead.review_deadline <= clock.now():
        raise Conflict("The review window has closed: silence meant approval.", code="review_window_closed")
    now = clock.now()
    appeal_until = now + timedelta(seconds=db.session.get(Offer, lead.offer_id).appeal_window_seconds)
    changes = {"reason_codes": ["advertiser_rejected"], "decision_note": note, "rejected_at": now}
    changes["appeal_until"] = appeal_until
    _moved(move(lead, "reject", actor, note, **changes))
    void_lead_reservation(price_of(lead))
    return lead


def return_lead(
    lead_id: int, actor: Actor, note: str | None = None, *, asked_at: datetime | None = None
) -> Lead:
    """Return an approved lead if it could be returned at ``asked_at`` (windows.return_refusal):
    now, or when the advertiser asked (a return dispute: its hold is kept meanwhile, and the
    lead's return window was fixed when it was approved, so the answer has not changed)."""
    lead = lock_lead(lead_id)
    if lead.status == RETURNED:
        return lead
    refusal = return_refusal(lead, asked_at or clock.now())
    if refusal is not None:
        raise refusal
    _moved(move(lead, "return", actor, note, decision_note=note))
    reverse_lead_charge(price_of(lead))
    return lead


def reinstate_lead(lead_id: int, actor: Actor, note: str | None = None) -> Lead:
    """Undo an advertiser's rejection (an appeal the webmaster won): reserve the lead's price
    again, under transfer ids of its own, and approve it; or let it wait for funds, to be
    approved once funded. The caller checked that the rejection may be appealed."""
    lead = lock_lead(lead_id)
    if lead.reinstated_at is not None:
        return lead
    if lead.status != REJECTED or lead.rate_minor is None:
        raise Conflict(
            "Only a rejected lead with its prices fixed can be reinstated.", code="lead_not_rejected"
        )
    lead.reinstated_at = clock.now()  # before reserving: the second reservation's ids depend on it
    db.session.flush()
    offer = db.session.get(Offer, lead.offer_id)
    accept_if_funded(lead, offer, action="reinstate", actor=actor)  # pending, or awaiting funds
    approve_if_reinstated(lead, actor)
    return lead


def approve_if_reinstated(lead: Lead, actor: Actor = Actor.system("appeal decision")) -> None:
    """A lead reinstated by an appeal needs no second review once its price is reserved.
    The caller holds the lead's row lock."""
    if lead.status == PENDING and lead.reinstated_at is not None:
        approve_lead(lead.id, actor, note="rejection overturned on appeal")


def release_hold(lead_id: int) -> bool:
    """Move an approved lead's payout from hold to available, once."""
    lead = lock_lead(lead_id)
    if lead is None or lead.status != APPROVED or lead.hold_released_at is not None:
        return False
    if lead.hold_until is None or lead.hold_until > clock.now():
        return False
    if return_disputed(lead.id):  # the payout stays on hold until the dispute is decided
        return False
    lead.hold_released_at = clock.now()
    release_lead_hold(price_of(lead))
    db.session.flush()
    return True


def _moved(done: bool) -> None:
    """The row is locked, so the move cannot lose a race; if it ever does,
    stop before any money moves."""
    if not done:
        raise Conflict("The lead changed meanwhile; try again.", code="lead_changed")


def waiting_lead_ids(advertiser_id: int, currency: str) -> list[int]:
    """Leads waiting for this advertiser's money, in arrival order."""
    return list(
        db.session.scalars(
            select(Lead.id)
            .where(
                Lead.advertiser_id == advertiser_id,
                Lead.currency == currency,
                Lead.status == AWAITING_FUNDS,
            )
            .order_by(Lead.id)
        )
    )


def fund_waiting_lead(lead_id: int, actor: Actor) -> bool:
    """Reserve one waiting lead's price; False when the balance falls short.

    The caller commits after each lead, so no transaction ever holds the
    locks of two leads (which would break the lock order)."""
    lead = lock_lead(lead_id)
    if lead.status != AWAITING_FUNDS:
        return True  # someone else funded it: go on with the next one
    offer = db.session.get(Offer, lead.offer_id)
    funded = accept_if_funded(lead, offer, action="fund", actor=actor) == PENDING
    approve_if_reported_approved(lead)
    approve_if_reinstated(lead)
    approve_if_auto_approved(lead, offer)
    return funded


def approve_if_reported_approved(lead: Lead) -> None:
    """A conversion its advertiser reported approved needs no review once accepted.
    The caller holds the lead's row lock."""
    if lead.status == PENDING and lead.reported_status == "approved":
        actor = Actor(kind="user", user_id=lead.advertiser_id, label="conversion postback")
        approve_lead(lead.id, actor, note="reported approved by postback")


AUTO_APPROVER = Actor.system("auto-approval")


def approve_if_auto_approved(lead: Lead, offer: Offer) -> None:
    """An accepted lead that the offer approves without review (``auto_approve``: ``all``,
    or ``hot`` for hot leads only) is approved at once. The caller holds the lead's row lock."""
    if lead.status != PENDING:
        return
    if offer.auto_approve == "all" or (offer.auto_approve == "hot" and lead.temperature == "hot"):
        approve_lead(lead.id, AUTO_APPROVER, note=f"auto-approved ({offer.auto_approve})")

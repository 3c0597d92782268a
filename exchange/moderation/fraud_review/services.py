"""The fraud review queue: leads that validation held for a moderator's verdict.

A lead of an offer with ``fraud_review`` on that validation would accept with a flag
(``exchange.moderation.fraud_review.domain``) waits in ``review`` with its prices fixed and
nothing reserved. A moderator then either clears it (its price is reserved as validation
would have done: pending with its review deadline and delivered to the advertiser, or
waiting for funds; then the offer's auto-approval applies) or rejects it (rejected with
its flags and ``fraud_review_rejected``; no money ever moved).

Each verdict locks the lead's row first and looks at its state under that lock. A verdict
given twice has one effect: the same verdict again answers the lead as it is; the other
verdict is refused (409 ``lead_not_in_review``). Each verdict writes one audit row and
tells both parties, in the caller's transaction. Services flush; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from exchange import clock
from exchange.actors import Actor
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.leads.decisions import approve_if_auto_approved, approve_if_reported_approved
from exchange.leads.domain import AWAITING_FUNDS, REJECTED, REVIEW
from exchange.leads.models import Lead, LeadEvent
from exchange.leads.transitions import move
from exchange.leads.validation import accept_if_funded, lock_lead
from exchange.moderation.audit import services as audit
from exchange.moderation.fraud_review.domain import flag_codes, rejection_codes_after_review
from exchange.moderation.partners.services import in_good_standing
from exchange.notifications.services import notify
from exchange.offers.models import Offer

CLEAR, REJECT = "clear", "reject"
REASON_MAX = 500
AUDIT_ACTIONS = {CLEAR: "clear_flagged_lead", REJECT: "reject_flagged_lead"}


def review_queue() -> Select:
    """Leads waiting for a verdict, the longest waiting first."""
    return select(Lead).where(Lead.status == REVIEW).order_by(Lead.accepted_at, Lead.id)


def clear_lead(lead_id: int, actor: Actor, reason: str) -> Lead:
    """The flags were not fraud: reserve the lead's price (pending, or waiting for funds),
    then approve it at once if the offer auto-approves it."""
    reason = _reason(reason)
    lead = _lead_awaiting(lead_id, CLEAR)
    if lead.status != REVIEW:
        return lead  # cleared before: nothing more to do
    if not in_good_standing(lead.webmaster_id):
        raise Conflict(
            "The lead's webmaster was banned since; reject the lead instead.",
            code="webmaster_not_in_good_standing",
        )
    offer = db.session.get(Offer, lead.offer_id)
    accept_if_funded(lead, offer, action="clear", actor=actor, reason=reason)
    _audit_and_tell(lead, actor, CLEAR, reason)  # before auto-approval: the verdict's own outcome
    approve_if_reported_approved(lead)
    approve_if_auto_approved(lead, offer)
    return lead


def reject_flagged_lead(lead_id: int, actor: Actor, reason: str) -> Lead:
    """The flags were fraud: reject the lead with them and ``fraud_review_rejected``.
    Nothing was reserved, so no money moves."""
    reason = _reason(reason)
    lead = _lead_awaiting(lead_id, REJECT)
    if lead.status != REVIEW:
        return lead  # rejected before
    codes = rejection_codes_after_review(lead.reason_codes or [], lead.findings or [])
    if not move(lead, "reject_fraud", actor, reason, reason_codes=codes, rejected_at=clock.now()):
        raise Conflict("The lead changed meanwhile; try again.", code="lead_changed")  # the row is locked
    _audit_and_tell(lead, actor, REJECT, reason)
    return lead


def verdict_given(lead_id: int) -> str | None:
    """The verdict that took the lead out of review (``clear`` or ``reject``), or None if it
    never left review (or never was in it). A lead is held for review at most once."""
    to_status = db.session.scalar(
        select(LeadEvent.to_status)
        .where(LeadEvent.lead_id == lead_id, LeadEvent.from_status == REVIEW)
        .order_by(LeadEvent.id)
        .limit(1)
    )
    if to_status is None:
        return None
    return REJECT if to_status == REJECTED else CLEAR


def _lead_awaiting(lead_id: int, verdict: str) -> Lead:
    """The lead, its row locked: in review, or already given this same verdict."""
    lead = lock_lead(lead_id)
    if lead is None:
        raise NotFound("No such lead.")
    if lead.status == REVIEW or verdict_given(lead.id) == verdict:
        return lead
    raise Conflict(
        f"Only a lead held for fraud review can be {'cleared' if verdict == CLEAR else 'rejected'} "
        f"here; this one is {lead.status}.",
        code="lead_not_in_review",
    )


def _audit_and_tell(lead: Lead, actor: Actor, verdict: str, reason: str) -> None:
    flags = flag_codes(lead.findings or [])
    audit.record(
        actor,
        AUDIT_ACTIONS[verdict],
        "lead",
        lead.id,
        reason,
        findings=flags,
        score=lead.score,
        temperature=lead.temperature,
        offer_id=lead.offer_id,
        webmaster_id=lead.webmaster_id,
        status=lead.status,
    )
    if verdict == CLEAR:
        outcome = "cleared by fraud review"
        waiting = " (waiting for the advertiser's funds)" if lead.status == AWAITING_FUNDS else ""
        states = f"it is {lead.status}{waiting}"
    else:
        outcome = "rejected by fraud review"
        states = "reason codes: " + ", ".join(lead.reason_codes)
    kind = f"fraud_review_{'cleared' if verdict == CLEAR else 'rejected'}"
    data = {"lead_id": lead.id, "offer_id": lead.offer_id, "status": lead.status, "reason": reason}
    for user_id in (lead.webmaster_id, lead.advertiser_id):
        notify(user_id, kind, f"Lead {lead.id} was {outcome}: {states}. Reason: {reason}", **data)
    db.session.flush()


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid("Say why.", fields={"reason": ["Required: say why (1 to 500 characters)."]})
    if len(text) > REASON_MAX:
        raise Invalid("The reason is too long.", fields={"reason": [f"At most {REASON_MAX} characters."]})
    return text

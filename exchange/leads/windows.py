"""Until when a lead may be appealed or returned, and why it may not.

The deadlines are fixed on the lead when it is rejected or approved, from the offer's
windows at that moment, so an offer edited afterwards cannot shorten them. Leads decided
before the deadlines were stored fall back to the offer's current windows."""

from __future__ import annotations

from datetime import datetime, timedelta

from exchange.errors import Conflict
from exchange.extensions import db
from exchange.leads.domain import APPROVED
from exchange.leads.models import Lead
from exchange.offers.models import Offer


def return_deadline(lead: Lead) -> datetime:
    if lead.return_until is not None:
        return lead.return_until
    return lead.approved_at + timedelta(seconds=db.session.get(Offer, lead.offer_id).return_window_seconds)


def appeal_deadline(lead: Lead) -> datetime:
    if lead.appeal_until is not None:
        return lead.appeal_until
    return lead.rejected_at + timedelta(seconds=db.session.get(Offer, lead.offer_id).appeal_window_seconds)


def return_refusal(lead: Lead, at: datetime) -> Conflict | None:
    """Why the advertiser may not return this lead at ``at`` (None: it may): it must be
    approved, its payout still on hold, not approved by a moderator on appeal, and within
    its return window (never longer than the hold)."""
    if lead.status != APPROVED or lead.hold_released_at is not None or lead.hold_until <= at:
        return Conflict("Only an approved lead still on hold can be returned.", code="lead_not_returnable")
    if lead.reinstated_at is not None:
        return Conflict(
            "This lead was approved by a moderator on appeal; it cannot be returned.",
            code="lead_won_on_appeal",
        )
    if not lead.approved_at <= at < return_deadline(lead):
        return Conflict("The offer's return window for this lead has closed.", code="return_window_closed")
    return None

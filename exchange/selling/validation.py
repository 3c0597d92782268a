"""Judging a lead submitted to a vertical: the same checks and score as an offer's lead
(exchange/leads/checks.py, scoring.py) against the vertical's rules; accepted, it is
offered for sale and its auction is opened.

A lead sent through the seller's hosted form after a click on its vertical link is judged
with its click too, as an offer's lead is: the time from click to lead counts in the score,
and a bot's user agent is recognised by the browser that followed the link.

Duplicates are the seller's own: the same consumer sent again by the same seller to the
same vertical within the vertical's window. Another seller's lead of the same consumer is
not a duplicate here: the register of sales decides what may still be sold of it
(docs/exchange.md, "Exclusivity").
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.auctions.services import open_auction
from exchange.extensions import db
from exchange.leads.checks import LeadFacts, evaluate, rejection_codes
from exchange.leads.domain import EXCHANGE_ACCEPTED, RECEIVED
from exchange.leads.intake import field_of_type
from exchange.leads.models import Lead
from exchange.leads.normalise import analyse_email, analyse_phone
from exchange.leads.scoring import assess
from exchange.leads.transitions import move
from exchange.leads.validation import lock_lead
from exchange.tracking import clickids
from exchange.tracking.models import Click
from exchange.tracking.services import click_by_id, click_key
from exchange.verticals.models import Vertical
from exchange.words import word

VALIDATOR = Actor.system("validation")


def validate_exchange_lead(
    lead_id: int, *, min_payout_minor: int = 0, held_seconds: float | None = None
) -> str:
    """Decide a received exchange lead. Returns its status; a decided lead is left alone.
    ``min_payout_minor`` and ``held_seconds`` go to its auction (``open_auction``)."""
    lead = lock_lead(lead_id)
    if lead is None:
        return "missing"
    if lead.status != RECEIVED or lead.vertical_id is None:
        return lead.status
    vertical = db.session.get(Vertical, lead.vertical_id)
    if db.session.get(User, lead.webmaster_id).status == "banned":
        move(lead, "reject_invalid", VALIDATOR, "webmaster banned", reason_codes=["webmaster_banned"])
        return lead.status
    earlier_received, earlier_accepted = _earlier_from_seller(lead, vertical)
    if earlier_received:
        return lead.status  # after the earlier one; its job or the sweep brings it back
    facts = _facts(lead, vertical, earlier_accepted)
    assessment = assess(facts, evaluate(facts))
    quality = {
        "findings": assessment.stored_findings,
        "score": assessment.score,
        "temperature": assessment.temperature,
        "phone_type": facts.phone.type if facts.phone else None,
    }
    codes = rejection_codes(assessment.findings)
    if codes:
        move(
            lead,
            "reject_invalid",
            VALIDATOR,
            ", ".join(word("reason", code) for code in codes),
            reason_codes=codes,
            rejected_at=clock.now(),
            **quality,
        )
        return lead.status
    move(
        lead,
        "offer_for_sale",
        VALIDATOR,
        None,
        accepted_at=clock.now(),
        currency=vertical.currency,
        **quality,
    )
    open_auction(lead, min_payout_minor=min_payout_minor, held_seconds=held_seconds)
    return lead.status


def _facts(lead: Lead, vertical: Vertical, earlier_accepted: int) -> LeadFacts:
    phone = field_of_type(vertical.fields, lead.fields, "phone")
    email = field_of_type(vertical.fields, lead.fields, "email")
    click = click_by_id(lead.click_token) if lead.click_token else None
    region = lead.ip_country or (click.country if click else None) or lead.country
    return LeadFacts(
        fields=lead.fields,
        field_specs=vertical.fields,
        offer_status=vertical.status,
        allowed_countries=list(vertical.allowed_countries or []),
        country=lead.country,
        ip_country=lead.ip_country,
        earlier_duplicates=earlier_accepted,
        phone=analyse_phone(phone, region) if phone not in (None, "") else None,
        email=analyse_email(email) if email not in (None, "") else None,
        user_agent=lead.user_agent,
        user_agent_from_click=click is not None and click.user_agent == lead.user_agent,
        seconds_since_click=_seconds_since_click(lead, click),
    )


def _seconds_since_click(lead: Lead, click: Click | None) -> float | None:
    """From the click on the seller's link to the lead (a hosted form's lead; intake checked
    whose click it is): its row's time, or (row still buffered) its signed id's."""
    if click is not None:
        clicked_at = click.created_at
    else:
        claims = clickids.verify_vertical(click_key(), lead.click_token) if lead.click_token else None
        clicked_at = claims.clicked_at if claims else None
    return (lead.created_at - clicked_at).total_seconds() if clicked_at else None


def _earlier_from_seller(lead: Lead, vertical: Vertical) -> tuple[int, int]:
    """(still received, accepted): the seller's earlier leads of the same consumer on the
    vertical within its duplicate window."""
    keys = [
        column == value
        for column, value in ((Lead.email_hash, lead.email_hash), (Lead.phone_hash, lead.phone_hash))
        if value
    ]
    if not keys or vertical.duplicate_window_seconds == 0:
        return 0, 0
    since = lead.created_at - timedelta(seconds=vertical.duplicate_window_seconds)
    received, accepted = db.session.execute(
        select(
            func.count().filter(Lead.status == RECEIVED),
            func.count().filter(Lead.status.in_(EXCHANGE_ACCEPTED)),
        ).where(
            Lead.vertical_id == vertical.id,
            Lead.webmaster_id == lead.webmaster_id,
            Lead.id < lead.id,
            Lead.created_at >= since,
            or_(*keys),
        )
    ).one()
    return received or 0, accepted or 0

"""The validation job's work: gather facts, run the checks, decide, reserve."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from billing.plans import LeadPrice
from billing.services import reserve_lead_price
from exchange import clock
from exchange.actors import Actor
from exchange.extensions import db
from exchange.leads.checks import LeadFacts, evaluate, rejection_codes
from exchange.leads.domain import ACCEPTED, AWAITING_FUNDS, RECEIVED, REJECTED
from exchange.leads.models import Lead
from exchange.leads.transitions import move
from exchange.offers.caps import cap_reached, has_caps, lock_offer
from exchange.offers.models import Offer
from exchange.offers.prices import price_lead

VALIDATOR = Actor.system("validation")


def validate(lead_id: int) -> str:
    """Decide a received lead. Returns its status; a decided lead is left alone."""
    lead = lock_lead(lead_id)
    if lead is None or lead.status != RECEIVED:
        return lead.status if lead else "missing"
    offer = db.session.get(Offer, lead.offer_id)
    if _earlier_with_same_contact(lead, offer, (RECEIVED,)):
        return RECEIVED  # decide after the earlier lead; the sweep brings this one back
    if lead.reported_status == "rejected":  # a conversion its advertiser reported rejected
        move(lead, "reject_invalid", VALIDATOR, "reported rejected", reason_codes=["advertiser_rejected"])
        return REJECTED
    if has_caps(offer):
        offer = lock_offer(offer.id)  # lock order: the lead, its offer, then accounts
    pricing = price_lead(offer, lead.webmaster_id, lead.country or lead.ip_country, lead.sale_amount_minor)
    findings = evaluate(gather_facts(lead, offer, pricing.price.payout_minor))
    codes = rejection_codes(findings)
    stored = [f.as_dict() for f in findings]
    if codes:
        move(lead, "reject_invalid", VALIDATOR, ", ".join(codes), reason_codes=codes, findings=stored)
        return REJECTED
    lead.findings = stored
    lead.accepted_at = clock.now()  # the lead's prices are fixed now; later edits never reprice it
    lead.currency = offer.currency
    lead.rate_minor, lead.payout_minor = pricing.price.rate_minor, pricing.price.payout_minor
    lead.pricing = {"model": offer.model, **pricing.chosen.as_dict()}
    db.session.flush()
    return accept_if_funded(lead, offer, action="accept", actor=VALIDATOR)


def accept_if_funded(lead: Lead, offer: Offer, *, action: str, actor: Actor) -> str:
    """Reserve the lead's price and make it pending, or let it wait for funds.
    The caller holds the lead's row lock."""
    if not reserve_lead_price(price_of(lead)):
        if lead.status == RECEIVED:
            move(lead, "wait_for_funds", actor, "advertiser balance too low")
        return AWAITING_FUNDS
    deadline = clock.now() + timedelta(seconds=offer.review_window_seconds)
    move(lead, action, actor, review_deadline=deadline)
    return lead.status


def price_of(lead: Lead) -> LeadPrice:
    return LeadPrice(
        lead_id=lead.id,
        advertiser_id=lead.advertiser_id,
        webmaster_id=lead.webmaster_id,
        currency=lead.currency,
        rate_minor=lead.rate_minor,
        payout_minor=lead.payout_minor,
    )


def gather_facts(lead: Lead, offer: Offer, payout_minor: int | None = None) -> LeadFacts:
    return LeadFacts(
        fields=lead.fields,
        field_specs=[] if lead.txid else offer.fields,
        is_conversion=lead.txid is not None,
        payout_minor=payout_minor,
        offer_status=offer.status,
        allowed_countries=list(offer.allowed_countries or []),
        country=lead.country,
        ip_country=lead.ip_country,
        earlier_duplicates=_earlier_with_same_contact(lead, offer, ACCEPTED),
        full_cap=cap_reached(offer, lead.webmaster_id, clock.now()),
    )


def _earlier_with_same_contact(lead: Lead, offer: Offer, statuses: tuple[str, ...]) -> int:
    """Earlier leads (lower id) on the offer with the same phone or email,
    within the duplicate window, in one of ``statuses``. The earliest lead
    the advertiser accepted wins; a rejected one does not count."""
    keys = []
    if lead.email_key:
        keys.append(Lead.email_key == lead.email_key)
    if lead.phone_key:
        keys.append(Lead.phone_key == lead.phone_key)
    if not keys or offer.duplicate_window_seconds == 0:
        return 0
    since = lead.created_at - timedelta(seconds=offer.duplicate_window_seconds)
    return db.session.scalar(
        select(func.count())
        .select_from(Lead)
        .where(
            Lead.offer_id == offer.id,
            Lead.id < lead.id,
            Lead.status.in_(statuses),
            Lead.created_at >= since,
            or_(*keys),
        )
    )


def lock_lead(lead_id: int) -> Lead | None:
    return db.session.scalar(
        select(Lead).where(Lead.id == lead_id).with_for_update().execution_options(populate_existing=True)
    )

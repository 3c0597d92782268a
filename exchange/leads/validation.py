"""The validation job's work: gather facts, run the checks, decide, reserve."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, or_, select

from billing.plans import LeadPrice
from billing.services import reserve_lead_price
from exchange import clock
from exchange.actors import Actor
from exchange.extensions import db
from exchange.leads.checks import LeadFacts, check_price, evaluate, rejection_codes
from exchange.leads.domain import ACCEPTED, APPROVED, AWAITING_FUNDS, RECEIVED, REJECTED, RETURNED
from exchange.leads.models import Lead
from exchange.leads.normalise import analyse_email, analyse_phone
from exchange.leads.scoring import assess
from exchange.leads.transitions import move
from exchange.offers.caps import cap_reached, has_caps, lock_offer
from exchange.offers.models import Offer
from exchange.offers.prices import price_lead
from exchange.tracking import clickids
from exchange.tracking.models import Click
from exchange.tracking.services import click_by_id, click_key

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
    facts = gather_facts(lead, offer)
    assessment = assess(facts, evaluate(facts), offer.min_temperature)
    pricing = price_lead(
        offer,
        lead.webmaster_id,
        lead.country or lead.ip_country,
        lead.sale_amount_minor,
        temperature=assessment.temperature,
    )  # after scoring: payout rules may name a temperature
    findings = assessment.findings + check_price(replace(facts, payout_minor=pricing.price.payout_minor))
    codes = rejection_codes(findings)
    quality = {
        "findings": [f.as_dict() for f in findings],
        "score": assessment.score,
        "temperature": assessment.temperature,
        "phone_type": facts.phone.type if facts.phone else None,
    }
    if codes:
        move(lead, "reject_invalid", VALIDATOR, ", ".join(codes), reason_codes=codes, **quality)
        return REJECTED
    for name, value in quality.items():
        setattr(lead, name, value)
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
    """Everything the checks and the score need, looked up once."""
    is_conversion = lead.txid is not None
    specs = [] if is_conversion else offer.fields
    click = click_by_id(lead.click_token) if lead.click_token else None
    region = lead.ip_country or (click.country if click else None) or lead.country
    phone, email = _value_of_type(specs, lead.fields, "phone"), _value_of_type(specs, lead.fields, "email")
    decided, approved = _source_history(lead)
    return LeadFacts(
        fields=lead.fields,
        field_specs=specs,
        is_conversion=is_conversion,
        payout_minor=payout_minor,
        offer_status=offer.status,
        allowed_countries=list(offer.allowed_countries or []),
        country=lead.country,
        ip_country=lead.ip_country,
        earlier_duplicates=_earlier_with_same_contact(lead, offer, ACCEPTED),
        full_cap=cap_reached(offer, lead.webmaster_id, clock.now()),
        phone=analyse_phone(phone, region) if phone not in (None, "") else None,
        email=analyse_email(email) if email not in (None, "") else None,
        user_agent=lead.user_agent,
        user_agent_from_click=click is not None and click.user_agent == lead.user_agent,
        seconds_since_click=_seconds_since_click(lead, click),
        click_mismatch=_click_mismatch(lead, click),
        ip_leads_last_hour=0 if is_conversion else _leads_from_ip_last_hour(lead),
        min_click_to_lead_seconds=offer.min_click_to_lead_seconds,
        max_leads_per_ip_per_hour=offer.max_leads_per_ip_per_hour,
        attribution_window_seconds=offer.attribution_window_seconds,
        source_decided=decided,
        source_approved=approved,
    )


def _value_of_type(specs: list[dict], values: dict, field_type: str) -> object:
    name = next((spec["name"] for spec in specs if spec["type"] == field_type), None)
    return values.get(name) if name else None


def _click_time(lead: Lead, click: Click | None):
    """When the lead's click happened: its row's time, or (row not written yet) its id's."""
    if click is not None:
        return click.created_at
    claims = clickids.verify(click_key(), lead.click_token) if lead.click_token else None
    return claims.clicked_at if claims else None


def _seconds_since_click(lead: Lead, click: Click | None) -> float | None:
    clicked_at = _click_time(lead, click)
    return (lead.created_at - clicked_at).total_seconds() if clicked_at else None


def _click_mismatch(lead: Lead, click: Click | None) -> str | None:
    """Why the lead's click id is not a click of this webmaster on this offer, or None."""
    if not lead.click_token:
        return None
    claims = clickids.verify(click_key(), lead.click_token)
    owners = [(c.offer_id, c.webmaster_id) for c in (claims, click) if c is not None]
    if not owners:
        return "the click id is unknown"
    for offer_id, webmaster_id in owners:
        if (offer_id, webmaster_id) != (lead.offer_id, lead.webmaster_id):
            return f"the click id is of offer {offer_id} and webmaster {webmaster_id}"
    return None


def _leads_from_ip_last_hour(lead: Lead) -> int:
    """Leads (not conversions) on the lead's offer from its IP in the hour up to it, itself included."""
    if not lead.ip:
        return 0
    return db.session.scalar(
        select(func.count())
        .select_from(Lead)
        .where(
            Lead.offer_id == lead.offer_id,
            Lead.ip == lead.ip,
            Lead.txid.is_(None),
            Lead.id <= lead.id,
            Lead.created_at > lead.created_at - timedelta(hours=1),
        )
    )


def _source_history(lead: Lead) -> tuple[int, int]:
    """(decided, approved): the webmaster's leads on this advertiser's offers that the
    advertiser accepted and then decided (approved, returned, or rejected in review)."""
    rows = db.session.execute(
        select(Lead.status, func.count())
        .where(
            Lead.advertiser_id == lead.advertiser_id,
            Lead.webmaster_id == lead.webmaster_id,
            Lead.accepted_at.is_not(None),
            Lead.status.in_((APPROVED, RETURNED, REJECTED)),
        )
        .group_by(Lead.status)
    ).all()
    counts = dict(rows)
    return sum(counts.values()), counts.get(APPROVED, 0)


def _earlier_with_same_contact(lead: Lead, offer: Offer, statuses: tuple[str, ...]) -> int:
    """Earlier leads (lower id) on the offer (or the advertiser's offers, as the offer's
    ``duplicate_scope`` says) with the same phone or email,
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
    if offer.duplicate_scope == "advertiser":
        scope = Lead.advertiser_id == offer.advertiser_id
    else:
        scope = Lead.offer_id == offer.id
    return db.session.scalar(
        select(func.count())
        .select_from(Lead)
        .where(
            scope,
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

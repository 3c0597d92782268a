"""The facts a lead's checks and score need, looked up in the database once per lead."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, or_, select

from exchange import clock
from exchange.extensions import db
from exchange.leads.checks import LeadFacts
from exchange.leads.domain import ACCEPTED, APPROVED, RECEIVED, REJECTED, RETURNED
from exchange.leads.models import Lead
from exchange.leads.normalise import analyse_email, analyse_phone
from exchange.offers.caps import cap_reached, has_caps, lock_offer
from exchange.offers.funding import LOW_BALANCE
from exchange.offers.models import Offer
from exchange.offers.prices import custom_payout
from exchange.tracking import clickids
from exchange.tracking.models import Click
from exchange.tracking.services import click_by_id, click_key


class Batch:
    """Look-ups shared by the leads judged in one batch (one transaction), and what judging
    a lead must know of the leads judged before it: the leads the batch accepted count
    towards caps. Nothing read here changes while the batch holds its leads: offers with
    caps are locked, and the source history counts decisions that judging never makes."""

    def __init__(self) -> None:
        self.offers: dict[int, Offer] = {}
        self.histories: dict[tuple[int, int], tuple[int, int]] = {}
        self.custom_payouts: dict[tuple[int, int], tuple[int | None, int | None]] = {}
        self.accepted: Counter = Counter()  # by offer, and by (offer, webmaster)

    def offer_for(self, lead: Lead) -> Offer:
        if lead.offer_id not in self.offers:
            offer = db.session.get(Offer, lead.offer_id)
            if has_caps(offer):
                offer = lock_offer(offer.id)  # lock order: leads, offer, accounts
            self.offers[lead.offer_id] = offer
        return self.offers[lead.offer_id]

    def source_history(self, lead: Lead) -> tuple[int, int]:
        key = (lead.advertiser_id, lead.webmaster_id)
        if key not in self.histories:
            self.histories[key] = _source_history(lead)
        return self.histories[key]

    def custom_payout(self, lead: Lead) -> tuple[int | None, int | None]:
        key = (lead.offer_id, lead.webmaster_id)
        if key not in self.custom_payouts:
            self.custom_payouts[key] = custom_payout(lead.offer_id, lead.webmaster_id)
        return self.custom_payouts[key]

    def accepted_before(self, lead: Lead) -> tuple[int, int]:
        return self.accepted[lead.offer_id], self.accepted[(lead.offer_id, lead.webmaster_id)]

    def count_accepted(self, lead: Lead) -> None:
        self.accepted[lead.offer_id] += 1
        self.accepted[(lead.offer_id, lead.webmaster_id)] += 1


def gather_facts(lead: Lead, offer: Offer, earlier_accepted: int, batch: Batch) -> LeadFacts:
    """Everything the checks and the score need, looked up once. ``earlier_accepted``
    comes from ``earlier_with_same_contact``."""
    is_conversion = lead.txid is not None
    specs = [] if is_conversion else offer.fields
    click = click_by_id(lead.click_token) if lead.click_token else None
    region = lead.ip_country or (click.country if click else None) or lead.country
    phone, email = _value_of_type(specs, lead.fields, "phone"), _value_of_type(specs, lead.fields, "email")
    decided, approved = batch.source_history(lead)
    return LeadFacts(
        fields=lead.fields,
        field_specs=specs,
        is_conversion=is_conversion,
        payout_minor=None,
        offer_status="active" if offer.paused_for == LOW_BALANCE else offer.status,  # they wait for funds
        allowed_countries=list(offer.allowed_countries or []),
        country=lead.country,
        ip_country=lead.ip_country,
        earlier_duplicates=earlier_accepted,
        full_cap=cap_reached(offer, lead.webmaster_id, clock.now(), batch.accepted_before(lead)),
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


def earlier_with_same_contact(lead: Lead, offer: Offer) -> tuple[int, int]:
    """(still received, accepted): earlier leads (lower id) on the offer (or the
    advertiser's offers, as the offer's ``duplicate_scope`` says) with the same phone or
    email, within the duplicate window. The earliest lead the advertiser accepted wins;
    a rejected one does not count."""
    keys = []  # by hash: an earlier lead whose personal data was erased still counts
    if lead.email_hash:
        keys.append(Lead.email_hash == lead.email_hash)
    if lead.phone_hash:
        keys.append(Lead.phone_hash == lead.phone_hash)
    if not keys or offer.duplicate_window_seconds == 0:
        return 0, 0
    since = lead.created_at - timedelta(seconds=offer.duplicate_window_seconds)
    if offer.duplicate_scope == "advertiser":
        scope = Lead.advertiser_id == offer.advertiser_id
    else:
        scope = Lead.offer_id == offer.id
    received, accepted = db.session.execute(
        select(
            func.count().filter(Lead.status == RECEIVED),
            func.count().filter(Lead.status.in_(ACCEPTED)),
        ).where(scope, Lead.id < lead.id, Lead.created_at >= since, or_(*keys))
    ).one()
    return received or 0, accepted or 0

"""The validation job's work: gather facts, run the checks, decide, reserve.

Leads are decided in batches (one lead is a batch of one) in two passes. The
first judges each lead in id order and writes nothing. The second writes the
verdicts: rejections, then the reservations of every accepted lead in one pass
over the locked accounts (in order, so a balance that runs out leaves the later
leads waiting for funds, as one by one), then every state change and event in one
flush. The account rows are locked only for that second pass, so two workers on
one advertiser's leads overlap everything but the few statements that move money.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import select

from billing.plans import LeadPrice
from billing.services import reserve_lead_prices
from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.errors import Conflict
from exchange.extensions import db
from exchange.leads.checks import check_price, evaluate, rejection_codes
from exchange.leads.domain import AWAITING_FUNDS, RECEIVED
from exchange.leads.facts import Batch, earlier_with_same_contact, gather_facts
from exchange.leads.models import Lead
from exchange.leads.scoring import assess
from exchange.leads.transitions import Move, apply_moves, move
from exchange.moderation.fraud_review.domain import hold_reason, needs_fraud_review
from exchange.offers.funding import enqueue_alignment, free_balance, threshold_of
from exchange.offers.models import Offer
from exchange.offers.prices import LeadPricing, price_lead
from exchange.words import word

VALIDATOR = Actor.system("validation")


def validate(lead_id: int) -> str:
    """Decide a received lead. Returns its status; a decided lead is left alone."""
    verdicts = validate_one(lead_id)
    if verdicts:
        return verdicts[0].lead.status
    lead = db.session.get(Lead, lead_id)
    return lead.status if lead else "missing"


def validate_one(lead_id: int) -> list[Verdict]:
    """``validate_batch`` of one lead, waiting for its lock if another transaction holds it."""
    lead = lock_lead(lead_id)
    if lead is None or lead.status != RECEIVED or lead.offer_id is None:  # an exchange lead: exchange.selling
        return []
    return decide([lead])


def validate_batch(lead_id: int, size: int) -> list[Verdict]:
    """Decide the lead ``lead_id`` and up to ``size - 1`` received leads after it, in one
    transaction, taking only leads no other transaction holds (SKIP LOCKED: two workers
    take two different batches). Returns the verdict on each lead taken."""
    leads = db.session.scalars(
        select(Lead)
        .where(Lead.status == RECEIVED, Lead.id >= lead_id, Lead.offer_id.is_not(None))
        .order_by(Lead.id)
        .limit(size)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    return decide(list(leads))


@dataclass(frozen=True)
class Verdict:
    lead: Lead
    offer: Offer
    codes: list[str] = field(default_factory=list)  # rejected when not empty
    reason: str | None = None
    quality: dict = field(default_factory=dict)
    pricing: LeadPricing | None = None  # accepted when set; neither: it stays received


def decide(leads: list[Lead]) -> list[Verdict]:
    """Decide received leads whose rows the caller holds locked, in id order."""
    batch = Batch()
    with db.session.no_autoflush:  # the first pass reads; nothing it learns is written yet
        verdicts = [judge(lead, batch) for lead in sorted(leads, key=lambda lead: lead.id)]
    settle(verdicts)
    return verdicts


def judge(lead: Lead, batch: Batch) -> Verdict:
    offer = batch.offer_for(lead)
    if db.session.get(User, lead.webmaster_id).status == "banned":  # banned after sending it
        return Verdict(lead, offer, ["webmaster_banned"], "webmaster banned")
    earlier_received, earlier_accepted = earlier_with_same_contact(lead, offer)
    if earlier_received:
        return Verdict(lead, offer)  # after the earlier one; its job or the sweep brings it back
    if lead.reported_status == "rejected":  # a conversion its advertiser reported rejected
        return Verdict(lead, offer, ["advertiser_rejected"], "reported rejected")
    facts = gather_facts(lead, offer, earlier_accepted, batch)
    assessment = assess(facts, evaluate(facts), offer.min_temperature)
    pricing = price_lead(
        offer,
        lead.webmaster_id,
        lead.country or lead.ip_country,
        lead.sale_amount_minor,
        temperature=assessment.temperature,
        custom=batch.custom_payout(lead),
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
        return Verdict(lead, offer, codes, ", ".join(word("reason", code) for code in codes), quality)
    batch.count_accepted(lead)
    return Verdict(lead, offer, quality=quality, pricing=pricing)


def settle(verdicts: list[Verdict]) -> None:
    """Write the verdicts: prices fixed, flagged leads held for review, reservations in
    order, moves, events."""
    now = clock.now()
    moves = [
        Move(v.lead, "reject_invalid", v.reason, {"reason_codes": v.codes, "rejected_at": now, **v.quality})
        for v in verdicts
        if v.codes
    ]
    accepted = [v for v in verdicts if v.pricing is not None]
    for verdict in accepted:
        lead, offer = verdict.lead, verdict.offer
        for name, value in verdict.quality.items():
            setattr(lead, name, value)
        lead.accepted_at = now  # the lead's prices are fixed now; later edits never reprice it
        lead.currency = offer.currency
        lead.rate_minor = verdict.pricing.price.rate_minor
        lead.payout_minor = verdict.pricing.price.payout_minor
        lead.pricing = {"model": offer.model, **verdict.pricing.chosen.as_dict()}
    flagged = {v.lead.id for v in accepted if needs_fraud_review(v.offer.fraud_review, v.quality["findings"])}
    moves += [
        Move(v.lead, "hold_for_review", hold_reason(v.quality["findings"]))
        for v in accepted
        if v.lead.id in flagged
    ]
    accepted = [v for v in accepted if v.lead.id not in flagged]  # a held lead reserves nothing
    funded = reserve_lead_prices([price_of(v.lead) for v in accepted]) if accepted else []
    _watch_funds(accepted)
    for verdict, is_funded in zip(accepted, funded, strict=True):
        if is_funded:
            window = timedelta(seconds=verdict.offer.review_window_seconds)
            moves.append(Move(verdict.lead, "accept", None, {"review_deadline": now + window}))
        else:
            moves.append(Move(verdict.lead, "wait_for_funds", "advertiser balance too low"))
    if moves:
        apply_moves(sorted(moves, key=lambda m: m.lead.id), VALIDATOR)


def _watch_funds(accepted: list[Verdict]) -> None:
    """Have the offers of advertisers whose free balance fell below an offer's threshold
    paused (after the commit: offers are locked before accounts)."""
    highest: dict[tuple[int, str], int] = {}  # the highest threshold among the batch's offers
    for offer in {verdict.offer for verdict in accepted}:
        funds = (offer.advertiser_id, offer.currency)
        highest[funds] = max(highest.get(funds, 0), threshold_of(offer))
    for (advertiser_id, currency), threshold in highest.items():
        if free_balance(advertiser_id, currency) < threshold:
            enqueue_alignment(advertiser_id, currency)


def accept_if_funded(
    lead: Lead, offer: Offer, *, action: str, actor: Actor, reason: str | None = None
) -> str:
    """Reserve the lead's price and make it pending by ``action`` (with ``reason``), or let
    it wait for funds. The caller holds the lead's row lock."""
    if not reserve_lead_prices([price_of(lead)])[0]:
        if lead.status != AWAITING_FUNDS:  # from received, review or rejected (reinstated)
            _moved(move(lead, "wait_for_funds", actor, "advertiser balance too low"))
        return AWAITING_FUNDS
    deadline = clock.now() + timedelta(seconds=offer.review_window_seconds)
    _moved(move(lead, action, actor, reason, review_deadline=deadline))
    return lead.status


def _moved(done: bool) -> None:
    """The caller holds the row lock, so a move cannot lose a race; if one ever did, stop
    (rolling back the reservation just made) rather than leave money on an unmoved lead."""
    if not done:
        raise Conflict("The lead changed meanwhile; try again.", code="lead_changed")


def price_of(lead: Lead) -> LeadPrice:
    return LeadPrice(
        lead_id=lead.id,
        advertiser_id=lead.advertiser_id,
        webmaster_id=lead.webmaster_id,
        currency=lead.currency,
        rate_minor=lead.rate_minor,
        payout_minor=lead.payout_minor,
        reinstated=lead.reinstated_at is not None,
    )


def lock_lead(lead_id: int) -> Lead | None:
    return db.session.scalar(
        select(Lead).where(Lead.id == lead_id).with_for_update().execution_options(populate_existing=True)
    )

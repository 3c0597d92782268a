"""An offer's stored prices read as pricing terms, and the price of one lead at acceptance.

The rules of choice and rounding are the pure ``exchange.offers.pricing``; this module
only reads them from the offer and the webmaster's participation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from exchange.extensions import db
from exchange.offers.models import Offer, Participation
from exchange.offers.pricing import (
    TERM_FIELDS,
    ChosenTerms,
    PayoutRule,
    Price,
    PriceTerms,
    PricingFacts,
    choose_terms,
    custom_payout_problems,
    price_for,
    rules_from_dicts,
)


@dataclass(frozen=True)
class LeadPricing:
    price: Price
    chosen: ChosenTerms


def base_terms(offer: Offer | dict) -> PriceTerms:
    """``offer`` is an offer or its settings as ``OfferCreateSchema`` loads them."""
    get = offer.get if isinstance(offer, dict) else lambda name: getattr(offer, name)
    return PriceTerms(*(get(name) for name in ("model", *TERM_FIELDS)))


def rules_of(offer: Offer | dict) -> tuple[PayoutRule, ...]:
    get = offer.get if isinstance(offer, dict) else lambda name: getattr(offer, name)
    return rules_from_dicts(get("payout_rules") or [], get("model"))


def price_lead(
    offer: Offer,
    webmaster_id: int,
    country: str | None,
    sale_amount_minor: int | None = None,
    temperature: str | None = None,
    custom: tuple[int | None, int | None] | None = None,
) -> LeadPricing:
    """The price of a lead accepted now: the most specific rule (by webmaster, country and
    the temperature its score gave it), the webmaster's custom payout, the sale amount (cps).
    Raises ``PricingError`` on terms that cannot price it. ``custom``: the webmaster's
    ``custom_payout`` (minor, bps) when the caller has read it already."""
    custom_minor, custom_bps = custom if custom is not None else custom_payout(offer.id, webmaster_id)
    chosen = choose_terms(
        base_terms(offer),
        rules_of(offer),
        PricingFacts(webmaster_id=webmaster_id, country=country, temperature=temperature),
        custom_payout_minor=custom_minor,
        custom_payout_bps=custom_bps,
    )
    return LeadPricing(price_for(chosen.terms, sale_amount_minor), chosen)


def custom_payout(offer_id: int, webmaster_id: int) -> tuple[int | None, int | None]:
    """The webmaster's custom payout on the offer, (minor, bps), each None when not set."""
    row = db.session.execute(
        select(Participation.custom_payout_minor, Participation.custom_payout_bps).where(
            Participation.offer_id == offer_id, Participation.webmaster_id == webmaster_id
        )
    ).first()
    return (row.custom_payout_minor, row.custom_payout_bps) if row else (None, None)


def custom_payouts_that_would_not_fit(offer: Offer, settings: dict) -> list[str]:
    """Before an edit of the offer's prices: the custom payouts it would put above a rate."""
    base, rules = base_terms(settings), rules_of(settings)
    participations = db.session.scalars(
        select(Participation)
        .where(
            Participation.offer_id == offer.id,
            (Participation.custom_payout_minor.is_not(None)) | (Participation.custom_payout_bps.is_not(None)),
        )
        .order_by(Participation.id)
    )
    return [
        f"webmaster {p.webmaster_id}: {problem}"
        for p in participations
        for problem in custom_payout_problems(base, rules, p.custom_payout_minor, p.custom_payout_bps)
    ]

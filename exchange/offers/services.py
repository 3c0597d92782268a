"""Offers and participation. Services flush; the caller commits."""

from __future__ import annotations

import secrets

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange.accounts.models import User
from exchange.errors import Invalid, NotFound
from exchange.extensions import db
from exchange.moderation.partners.services import require_good_standing
from exchange.offers.domain import JOIN_OUTCOME
from exchange.offers.models import Offer, Participation
from exchange.offers.prices import custom_payouts_that_would_not_fit
from exchange.offers.schemas import IMMUTABLE, OfferCreateSchema


def create_offer(advertiser_id: int, data: dict) -> Offer:
    """``data`` has been loaded through ``OfferCreateSchema``."""
    offer = Offer(advertiser_id=advertiser_id, **data)
    db.session.add(offer)
    db.session.flush()
    return offer


def own_offer(advertiser_id: int, offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.advertiser_id != advertiser_id:
        raise NotFound("No such offer.")
    return offer


def update_offer(advertiser_id: int, offer_id: int, changes: dict) -> Offer:
    """Apply any subset of an offer's settings, checked as a whole with the rest.

    Currency and model never change (leads and money already carry them).
    Prices apply to leads accepted from now on: accepted leads keep theirs."""
    offer = own_offer(advertiser_id, offer_id)
    schema = OfferCreateSchema()
    current = schema.dump(offer)
    for name in IMMUTABLE:
        if name in changes and changes[name] != current[name]:
            raise Invalid(f"An offer's {name} cannot change.", fields={name: ["Cannot change."]})
    try:
        settings = schema.load({**current, **changes})
    except ValidationError as error:
        raise Invalid("The offer's settings are not valid.", fields=error.normalized_messages()) from None
    misfits = custom_payouts_that_would_not_fit(offer, settings)
    if misfits:
        raise Invalid(
            "These prices would put webmasters' custom payouts above the rate: change those first.",
            fields={"custom_payouts": misfits},
        )
    for name, value in settings.items():
        if name not in IMMUTABLE:
            setattr(offer, name, value)  # every name comes from OfferCreateSchema
    if "status" in changes:
        offer.paused_for = None  # the advertiser's own choice: money arriving will not undo it
    db.session.flush()
    return offer


def offers_visible_to(user: User) -> list[Offer]:
    query = select(Offer).order_by(Offer.id)
    if user.role == "advertiser":
        query = query.where(Offer.advertiser_id == user.id)
    elif user.role == "webmaster":  # the catalog, and whatever it joined or was invited to
        joined = select(Participation.offer_id).where(Participation.webmaster_id == user.id)
        query = query.where(
            ((Offer.status == "active") & (Offer.visibility != "private")) | Offer.id.in_(joined)
        )
    return list(db.session.scalars(query))


def offer_visible_to(user: User, offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or not _may_see(user, offer):
        raise NotFound("No such offer.")
    return offer


def _may_see(user: User, offer: Offer) -> bool:
    if user.role == "advertiser":
        return offer.advertiser_id == user.id
    if user.role == "webmaster":
        return (offer.status == "active" and offer.visibility != "private") or _joined(user.id, offer.id)
    return True


def join_offer(webmaster_id: int, offer_id: int, traffic_sources: list[str] | None = None) -> Participation:
    """Join (public offer), apply (approval required) or accept an invitation
    (private offer), declaring the traffic sources the webmaster will use; each
    must be one the offer allows. Joining again answers the same participation
    (with the sources declared again, when some are given). A webmaster pending approval
    or banned may not join (403)."""
    require_good_standing(webmaster_id)
    offer = db.session.get(Offer, offer_id)
    existing = _participation(webmaster_id, offer_id)
    if offer is None or offer.status != "active" or (offer.visibility == "private" and existing is None):
        raise NotFound("No such offer.")
    sources = sorted(set(traffic_sources or []))
    refused = [source for source in sources if offer.traffic_sources and source not in offer.traffic_sources]
    if refused:
        raise Invalid(
            "This offer does not allow some of these traffic sources.",
            fields={"traffic_sources": [f"Not allowed on this offer: {', '.join(refused)}."]},
        )
    outcome = JOIN_OUTCOME.get((offer.visibility, existing.status if existing else None))
    if existing is not None:
        if outcome:
            existing.status = outcome
        if sources:
            existing.traffic_sources = sources
        db.session.flush()
        return existing
    return _new_participation(offer_id, webmaster_id, outcome, sources)


def invite(advertiser_id: int, offer_id: int, webmaster_id: int) -> Participation:
    """Invite a webmaster to an offer (the only way into a private one)."""
    offer = own_offer(advertiser_id, offer_id)
    webmaster = db.session.get(User, webmaster_id)
    if webmaster is None or webmaster.role != "webmaster":
        raise NotFound("No such webmaster.", fields={"webmaster_id": ["Unknown webmaster."]})
    return _participation(webmaster_id, offer.id) or _new_participation(offer.id, webmaster_id, "invited")


def _new_participation(
    offer_id: int, webmaster_id: int, status: str, traffic_sources: list[str] | None = None
) -> Participation:
    try:
        with db.session.begin_nested():
            participation = Participation(
                offer_id=offer_id,
                webmaster_id=webmaster_id,
                status=status,
                token=secrets.token_urlsafe(12),
                traffic_sources=traffic_sources or [],
            )
            db.session.add(participation)
    except IntegrityError:  # joined concurrently
        return _participation(webmaster_id, offer_id)
    return participation


def participations_of(webmaster_id: int) -> list[Participation]:
    return list(
        db.session.scalars(
            select(Participation).where(Participation.webmaster_id == webmaster_id).order_by(Participation.id)
        )
    )


def participation_by_token(token: str) -> Participation | None:
    return db.session.scalar(select(Participation).where(Participation.token == token))


def _participation(webmaster_id: int, offer_id: int) -> Participation | None:
    return db.session.scalar(
        select(Participation).where(
            Participation.webmaster_id == webmaster_id, Participation.offer_id == offer_id
        )
    )


def _joined(webmaster_id: int, offer_id: int) -> bool:
    return _participation(webmaster_id, offer_id) is not None

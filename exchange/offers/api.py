"""Reading offers: advertisers see their own, webmasters the catalog."""

from __future__ import annotations

from flask import url_for

from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import User
from exchange.offers.models import Offer, Participation
from exchange.offers.schemas import CatalogOfferSchema, OfferSchema
from exchange.offers.services import offer_visible_to, offers_visible_to
from exchange.openapi import Blueprint, by_role

blp = Blueprint("offers", __name__, url_prefix="/api/v1", description="Offers")
ROLE_VIEW = "Advertisers get Offer (with the rate); webmasters get CatalogOffer (payout only)."


def offer_view(user: User, offer: Offer) -> dict:
    """The advertiser's (and staff's) full view; a webmaster's has payouts only, with
    the payout rules that can price its leads."""
    if user.role != "webmaster":
        return OfferSchema().dump(offer)
    view = CatalogOfferSchema().dump(offer)
    view["payout_rules"] = [
        {key: value for key, value in rule.items() if key not in ("id", "rate_minor", "rate_bps")}
        for rule in offer.payout_rules or []
        if rule.get("webmaster_id") in (None, user.id)
    ]
    return view


def participation_view(participation: Participation) -> dict:
    return {
        "id": participation.id,
        "offer_id": participation.offer_id,
        "webmaster_id": participation.webmaster_id,
        "status": participation.status,
        "custom_payout_minor": participation.custom_payout_minor,
        "custom_payout_bps": participation.custom_payout_bps,
        "traffic_sources": participation.traffic_sources or [],
        "decision_reason": participation.decision_reason,
        "created_at": participation.created_at,
        "tracking_link": url_for("tracking.click", token=participation.token, _external=True),
    }


@blp.route("/offers", methods=["GET"])
@api_key_required()
@blp.doc(responses=by_role(OfferSchema, CatalogOfferSchema, many=True))
@blp.response(200, description=ROLE_VIEW)
def list_offers():
    user = caller()
    return [offer_view(user, offer) for offer in offers_visible_to(user)]


@blp.route("/offers/<id:offer_id>", methods=["GET"])
@api_key_required()
@blp.doc(responses=by_role(OfferSchema, CatalogOfferSchema))
@blp.response(200, description=ROLE_VIEW)
def get_offer(offer_id: int):
    user = caller()
    return offer_view(user, offer_visible_to(user, offer_id))

"""Reading offers: advertisers see their own, webmasters the catalog."""

from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint

from exchange.accounts.auth import api_key_required, caller
from exchange.offers.models import Participation
from exchange.offers.schemas import CatalogOfferSchema, OfferSchema
from exchange.offers.services import offer_visible_to, offers_visible_to

blp = Blueprint("offers", __name__, url_prefix="/api/v1", description="Offers")
ROLE_VIEW = "Advertisers get Offer (with the rate); webmasters get CatalogOffer (payout only)."


def offer_schema_for(role: str, many: bool = False):
    return (CatalogOfferSchema if role == "webmaster" else OfferSchema)(many=many)


def participation_view(participation: Participation) -> dict:
    return {
        "id": participation.id,
        "offer_id": participation.offer_id,
        "webmaster_id": participation.webmaster_id,
        "status": participation.status,
        "custom_payout_minor": participation.custom_payout_minor,
        "decision_reason": participation.decision_reason,
        "created_at": participation.created_at,
        "tracking_link": url_for("tracking.click", token=participation.token, _external=True),
    }


@blp.route("/offers", methods=["GET"])
@api_key_required()
@blp.response(200, description=ROLE_VIEW)
def list_offers():
    user = caller()
    return offer_schema_for(user.role, many=True).dump(offers_visible_to(user))


@blp.route("/offers/<id:offer_id>", methods=["GET"])
@api_key_required()
@blp.response(200, description=ROLE_VIEW)
def get_offer(offer_id: int):
    user = caller()
    return offer_schema_for(user.role).dump(offer_visible_to(user, offer_id))

"""Advertiser API: create and pause offers, decide pending leads."""

from __future__ import annotations

from exchange.accounts.auth import actor, api_key_required, caller
from exchange.db import commit
from exchange.leads.decisions import advertiser_lead, approve_lead, reject_lead
from exchange.leads.schemas import AdvertiserLeadSchema, LeadDecisionSchema
from exchange.offers.schemas import IMMUTABLE, OfferCreateSchema, OfferPatchSchema, OfferSchema
from exchange.offers.services import create_offer, update_offer
from exchange.openapi import Blueprint

blp = Blueprint("advertiser_api", __name__, url_prefix="/api/v1", description="Advertiser actions")


@blp.route("/offers", methods=["POST"])
@blp.rules(
    "prices: rate_minor and payout_minor, or (cps) rate_bps and payout_bps; the payout not above the rate",
    "payout_rules: each a rule of the offer's model (docs/offers.md)",
    "fields: names of a-z, 0-9 and _ (a letter first, up to 40), each once; choices of the field's type; "
    "at least one for a cpl offer, and one of type country when allowed_countries is set",
    "return_window_seconds: not longer than hold_seconds",
    "auto_return_reasons: with a cap (auto_return_cap_count or auto_return_cap_percent)",
    "landing_url, trafficback_url, landing_urls: absolute http(s) URLs",
)
@api_key_required("advertiser")
@blp.arguments(OfferCreateSchema)
@blp.response(201, OfferSchema)
def post_offer(data: dict):
    offer = create_offer(caller().id, data)
    commit()
    return offer


@blp.route("/offers/<id:offer_id>", methods=["PATCH"])
@blp.rules(
    "the offer after the change follows the rules of POST /api/v1/offers",
    f"{', '.join(IMMUTABLE)}: cannot change",
)
@api_key_required("advertiser")
@blp.arguments(OfferPatchSchema)
@blp.response(200, OfferSchema)
def patch_offer(data: dict, offer_id: int):
    offer = update_offer(caller().id, offer_id, data)
    commit()
    return offer


@blp.route("/leads/<id:lead_id>/approve", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(LeadDecisionSchema, required=False)
@blp.response(200, AdvertiserLeadSchema)
def approve(data: dict, lead_id: int):
    lead = approve_lead(advertiser_lead(caller().id, lead_id).id, actor(), note=data["reason"])
    commit()
    return lead


@blp.route("/leads/<id:lead_id>/reject", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(LeadDecisionSchema, required=False)
@blp.response(200, AdvertiserLeadSchema)
def reject(data: dict, lead_id: int):
    lead = reject_lead(advertiser_lead(caller().id, lead_id).id, actor(), note=data["reason"])
    commit()
    return lead

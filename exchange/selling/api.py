"""Sellers submit leads to a vertical."""

from __future__ import annotations

from exchange.accounts.auth import actor, api_key_required, caller, lead_intake_per_webmaster
from exchange.db import commit
from exchange.idempotency import HEADER_DOC, idempotency_key
from exchange.leads.schemas import WebmasterLeadSchema
from exchange.openapi import Blueprint
from exchange.selling.intake import submit_to_vertical
from exchange.selling.pings import post, quote
from exchange.selling.schemas import (
    ExchangeLeadSubmitSchema,
    PingSchema,
    PostAnswerSchema,
    PostSchema,
    QuoteSchema,
)

blp = Blueprint("selling", __name__, url_prefix="/api/v1", description="Exchange: selling leads")
RULES = (
    "fields: as the vertical's field specs ask",
    "consent.page_url: an http(s) URL with a host name",
)  # said in words (exchange/openapi.py)


@blp.route("/verticals/<id:vertical_id>/leads", methods=["POST"])
@blp.rules(*RULES)
@api_key_required("webmaster")
@lead_intake_per_webmaster
@blp.arguments(ExchangeLeadSubmitSchema)
@blp.response(202, WebmasterLeadSchema)
@blp.doc(parameters=[HEADER_DOC])
def submit(payload: dict, vertical_id: int):
    """Submit a lead, with its consent record, to a vertical you sell on. It is validated,
    then auctioned; follow it at ``GET /api/v1/leads/{id}`` and ``/api/v1/sales``."""
    submission = submit_to_vertical(caller().id, vertical_id, payload, actor(), idempotency_key())
    commit()
    headers = {"Idempotent-Replayed": "true"} if submission.replayed else {}
    return submission.lead, 202, headers


@blp.route("/pings", methods=["POST"])
@api_key_required("webmaster")
@lead_intake_per_webmaster
@blp.arguments(PingSchema)
@blp.response(200, QuoteSchema)
def post_ping(data: dict):
    """Ask what a lead is worth before sending its personal data: a firm price for a minute."""
    quoted = quote(caller().id, data["vertical_id"], data["fields"])
    commit()
    if quoted.ping is None:
        return {
            "ping_id": None,
            "price_minor": 0,
            "currency": None,
            "expires_at": None,
            "reason": quoted.reason,
        }
    ping = quoted.ping
    return {
        "ping_id": ping.token,
        "price_minor": ping.price_minor,
        "currency": ping.currency,
        "expires_at": ping.expires_at,
        "reason": None,
    }


@blp.route("/posts", methods=["POST"])
@blp.rules(*RULES)
@api_key_required("webmaster")
@lead_intake_per_webmaster
@blp.arguments(PostSchema)
@blp.response(200, PostAnswerSchema)
@blp.doc(parameters=[HEADER_DOC])
def post_lead(data: dict):
    """Send the pinged lead whole: it is validated and auctioned now, and sold at the quoted
    price or better, or not at all (the answer says why). Posting again answers the same."""
    token = data.pop("ping_id")
    outcome = post(caller().id, token, data, actor(), idempotency_key())
    commit()
    return {
        "lead_id": outcome.lead.id,
        "status": outcome.lead.status,
        "payout_minor": outcome.payout_minor,
        "currency": outcome.ping.currency,
        "reason": outcome.reason,
    }

"""Card top-ups over the API, and the endpoint Stripe's webhooks come to."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from billing.topups.models import Topup
from billing.topups.services import receive_event, start_topup
from exchange.accounts.auth import api_key_required, caller
from exchange.bounds import MAX_AMOUNT_MINOR
from exchange.db import commit
from exchange.errors import Invalid
from exchange.money import parse_major
from exchange.openapi import Blueprint as ApiBlueprint
from exchange.pagination import PageQuerySchema, page_schema, paginate
from exchange.schema_fields import UtcDateTime, currency

blp = ApiBlueprint("topups", __name__, url_prefix="/api/v1", description="Card top-ups (Stripe)")
webhooks = Blueprint("stripe_webhooks", __name__)


class TopupRequestSchema(Schema):
    amount = fields.String(required=True, validate=validate.Length(min=1, max=20))  # major units: "250.00"
    currency = currency(required=True)


class TopupSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    currency = fields.String()
    amount_minor = fields.Integer()
    payment_intent_id = fields.String(allow_none=True)
    failure = fields.String(allow_none=True)
    created_at = UtcDateTime()
    settled_at = UtcDateTime(allow_none=True)


class StartedTopupSchema(TopupSchema):
    client_secret = fields.String()
    publishable_key = fields.String()


@blp.route("/topups", methods=["POST"])
@blp.rules("amount: no more decimals than the currency has, at least its smallest top-up")
@api_key_required("advertiser")
@blp.arguments(TopupRequestSchema)
@blp.response(201, StartedTopupSchema)
def create_topup(data: dict):
    """Start a card top-up: confirm ``client_secret`` with Stripe.js in the browser; the
    balance is credited when Stripe's webhook says the payment succeeded."""
    try:
        amount_minor = parse_major(data["amount"], data["currency"])
    except ValueError as error:
        raise Invalid("The amount cannot be read.", fields={"amount": [str(error)]}) from None
    if amount_minor > MAX_AMOUNT_MINOR:
        raise Invalid("The amount is too large.", fields={"amount": ["Too large."]})
    topup, client_secret = start_topup(caller().id, data["currency"], amount_minor)
    commit()
    started = {name: getattr(topup, name) for name in TopupSchema().fields}
    return {
        **started,
        "client_secret": client_secret,
        "publishable_key": current_app.config.get("STRIPE_PUBLISHABLE_KEY"),
    }


@blp.route("/topups", methods=["GET"])
@api_key_required("advertiser")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(TopupSchema))
def list_topups(args: dict):
    query = select(Topup).where(Topup.advertiser_id == caller().id).order_by(Topup.id.desc())
    return paginate(query, args["page"], args["per_page"])


@webhooks.route("/webhooks/stripe", methods=["POST"])
def stripe_webhook():
    """Stripe's events: verified on the raw body, stored once, applied by a job; 2xx at once."""
    event = receive_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    commit()
    return jsonify(received=event.id)

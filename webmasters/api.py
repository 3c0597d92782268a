"""Webmaster API: join offers, submit leads, request payouts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from billing.payouts.services import ask_for_payout
from billing.schemas import PayoutSchema
from exchange.accounts.auth import actor, api_key_required, caller, lead_intake_per_webmaster
from exchange.bounds import MAX_AMOUNT_MINOR
from exchange.db import commit
from exchange.idempotency import idempotency_key
from exchange.leads.intake import submit_lead
from exchange.leads.schemas import LeadSubmitSchema, WebmasterLeadSchema
from exchange.offers.api import participation_view
from exchange.offers.domain import TRAFFIC_SOURCES
from exchange.offers.schemas import ParticipationSchema
from exchange.offers.services import join_offer, participations_of
from exchange.openapi import Blueprint
from exchange.schema_fields import currency

blp = Blueprint("webmaster_api", __name__, url_prefix="/api/v1", description="Webmaster actions")


class PayoutRequestSchema(Schema):
    currency = currency(required=True)
    amount_minor = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR)
    )


class JoinSchema(Schema):
    traffic_sources = fields.List(
        fields.String(validate=validate.OneOf(TRAFFIC_SOURCES)),
        load_default=list,
        validate=validate.Length(max=len(TRAFFIC_SOURCES)),
        metadata={"description": "Where your traffic will come from; each must be one the offer allows."},
    )


@blp.route("/offers/<id:offer_id>/join", methods=["POST"])
@api_key_required("webmaster")
@blp.arguments(JoinSchema, required=False)
@blp.response(200, ParticipationSchema)
def join(data: dict, offer_id: int):
    participation = join_offer(caller().id, offer_id, data["traffic_sources"])
    commit()
    return participation_view(participation)


@blp.route("/participations", methods=["GET"])
@api_key_required("webmaster")
@blp.response(200, ParticipationSchema(many=True))
def list_participations():
    return [participation_view(p) for p in participations_of(caller().id)]


@blp.route("/leads", methods=["POST"])
@blp.rules("click_id: one of your clicks", "fields: as the offer's field specs ask")
@api_key_required("webmaster")
@lead_intake_per_webmaster
@blp.arguments(LeadSubmitSchema)
@blp.response(202, WebmasterLeadSchema)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
def submit(payload: dict):
    submission = submit_lead(caller().id, payload, actor(), idempotency_key=idempotency_key())
    commit()  # validation is dispatched now, after the lead is visible
    headers = {"Idempotent-Replayed": "true"} if submission.replayed else {}
    return submission.lead, 202, headers


@blp.route("/payouts", methods=["POST"])
@blp.rules("amount_minor: at least the currency's smallest payout, at most your available balance")
@api_key_required("webmaster")
@blp.arguments(PayoutRequestSchema)
@blp.response(201, PayoutSchema)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
def post_payout(data: dict):
    """With an ``Idempotency-Key``, asking again (a retry after a timeout) answers the
    same payout with ``Idempotent-Replayed: true`` and reserves nothing more."""
    asked = ask_for_payout(
        caller().id, data["currency"], data["amount_minor"], idempotency_key=idempotency_key()
    )
    commit()
    headers = {"Idempotent-Replayed": "true"} if asked.replayed else {}
    return asked.payout, 201, headers

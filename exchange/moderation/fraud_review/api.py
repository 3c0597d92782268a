"""The fraud review queue over the API: flagged leads, a moderator's verdict (docs/moderation.md)."""

from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from exchange import clock
from exchange.accounts.auth import actor, api_key_required
from exchange.accounts.models import User
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.domain import REVIEW
from exchange.leads.models import Lead
from exchange.moderation.fraud_review.domain import flag_codes
from exchange.moderation.fraud_review.services import (
    REASON_MAX,
    clear_lead,
    reject_flagged_lead,
    review_queue,
)
from exchange.offers.models import Offer
from exchange.openapi import Blueprint
from exchange.pagination import PageQuerySchema, page_schema, paginate
from exchange.schema_fields import UtcDateTime

blp = Blueprint("fraud_review", __name__, url_prefix="/api/v1", description="Fraud review queue")
STAFF = ("moderator", "admin")


class FlaggedLeadOfferSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    advertiser_id = fields.Integer()


class FlaggedLeadWebmasterSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    status = fields.String(metadata={"description": "The webmaster's standing: active, pending, banned."})


class FlaggedLeadSchema(Schema):
    id = fields.Integer()
    status = fields.String(
        metadata={"description": "review while it waits; then pending, awaiting_funds, ..."}
    )
    offer = fields.Nested(FlaggedLeadOfferSchema)
    webmaster = fields.Nested(FlaggedLeadWebmasterSchema)
    flags = fields.List(fields.String(), metadata={"description": "The codes of the findings that held it."})
    findings = fields.List(
        fields.Dict(),
        metadata={"description": "Every finding of validation: code, severity, detail, points."},
    )
    score = fields.Integer()
    temperature = fields.String()
    phone_type = fields.String()
    reason_codes = fields.List(fields.String())
    country = fields.String()
    ip_country = fields.String()
    currency = fields.String()
    rate_minor = fields.Integer()
    payout_minor = fields.Integer()
    created_at = UtcDateTime(metadata={"description": "When the webmaster sent it."})
    held_at = UtcDateTime(metadata={"description": "When validation held it for review."})
    waiting_seconds = fields.Integer(metadata={"description": "How long it has waited; null once decided."})


class FraudVerdictSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=REASON_MAX),
        metadata={"description": "Why (1 to 500 characters): kept in the audit log, told to both parties."},
    )


@blp.route("/moderation/fraud-reviews", methods=["GET"])
@api_key_required(*STAFF)
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(FlaggedLeadSchema))
def list_flagged_leads(args: dict):
    """Leads held for fraud review, the longest waiting first."""
    page = paginate(review_queue(), args["page"], args["per_page"])
    page["items"] = _described(page["items"])
    return page


@blp.route("/moderation/fraud-reviews/<id:lead_id>/clear", methods=["POST"])
@api_key_required(*STAFF)
@blp.arguments(FraudVerdictSchema)
@blp.response(200, FlaggedLeadSchema)
def clear(data: dict, lead_id: int):
    """Not fraud: the lead's price is reserved (pending, or waiting for funds) and it goes to the
    advertiser. Again: the same answer, once."""
    lead = clear_lead(lead_id, actor(), data["reason"])
    commit()
    return _described([lead])[0]


@blp.route("/moderation/fraud-reviews/<id:lead_id>/reject", methods=["POST"])
@api_key_required(*STAFF)
@blp.arguments(FraudVerdictSchema)
@blp.response(200, FlaggedLeadSchema)
def reject(data: dict, lead_id: int):
    """Fraud: the lead is rejected with its flags and ``fraud_review_rejected``; no money moves.
    Again: the same answer, once."""
    lead = reject_flagged_lead(lead_id, actor(), data["reason"])
    commit()
    return _described([lead])[0]


def _described(leads: list[Lead]) -> list[dict]:
    """Each lead with its offer and webmaster (two look-ups for the whole page)."""
    offers = _by_id(Offer, {lead.offer_id for lead in leads})
    webmasters = _by_id(User, {lead.webmaster_id for lead in leads})
    now = clock.now()
    return [
        {
            **{name: getattr(lead, name) for name in _LEAD_COLUMNS},
            "offer": offers[lead.offer_id],
            "webmaster": webmasters[lead.webmaster_id],
            "flags": flag_codes(lead.findings or []),
            "held_at": lead.accepted_at,
            "waiting_seconds": _waited(lead, now),
        }
        for lead in leads
    ]


_LEAD_COLUMNS = (
    "id",
    "status",
    "findings",
    "score",
    "temperature",
    "phone_type",
    "reason_codes",
    "country",
    "ip_country",
    "currency",
    "rate_minor",
    "payout_minor",
    "created_at",
)


def _waited(lead: Lead, now: datetime) -> int | None:
    if lead.status != REVIEW or lead.accepted_at is None:
        return None
    return max(0, int((now - lead.accepted_at).total_seconds()))


def _by_id(model: type[Offer] | type[User], ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}

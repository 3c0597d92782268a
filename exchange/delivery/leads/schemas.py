"""What the advertiser's delivery API accepts and shows."""

from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as ma

from exchange.bounds import MAX_ID
from exchange.delivery.leads.domain import MAX_URL_LENGTH
from exchange.delivery.postbacks.schemas import PostbackAttemptSchema
from exchange.pagination import PageQuerySchema
from exchange.schema_fields import UtcDateTime


class DeliverySettingInSchema(Schema):
    url = ma.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_URL_LENGTH),
        metadata={"description": "Your endpoint: an absolute http(s) URL; leads are POSTed to it as JSON."},
    )


class DeliverySettingSchema(Schema):
    offer_id = ma.Integer(allow_none=True, metadata={"description": "null: your global endpoint"})
    url = ma.String(allow_none=True, metadata={"description": "null: none set (leads are pulled only)"})
    secret_hint = ma.String(allow_none=True, metadata={"description": "whsec_… and the last 4 characters"})
    signing_secret = ma.String(
        metadata={"description": "The full secret: only in the answer that made it (create, rotate)."}
    )
    secret_created_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime(allow_none=True)


class TestDeliveryInSchema(Schema):
    offer_id = ma.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Test the endpoint this offer's leads go to (default: the global one)."},
    )


class DeliveryQuerySchema(PageQuerySchema):
    lead_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class DeliveryAttemptSchema(PostbackAttemptSchema):
    url = ma.String()
    decision = ma.String(allow_none=True, metadata={"description": "approve or reject, as your answer asked"})
    decision_result = ma.String(
        allow_none=True, metadata={"description": "applied, or why not (e.g. the lead was already decided)"}
    )


class LeadDeliverySchema(Schema):
    id = ma.Integer()
    lead_id = ma.Integer()
    url = ma.String()
    state = ma.String(metadata={"description": "pending, delivered or failed"})
    attempts = ma.Integer()
    next_attempt_at = UtcDateTime(allow_none=True)
    delivered_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    attempt_log = ma.List(ma.Nested(DeliveryAttemptSchema))

"""What the postback API accepts and shows."""

from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as ma

from exchange.bounds import MAX_ID
from exchange.delivery.postbacks.domain import MAX_STATUS_NAME_LENGTH, MAX_TEMPLATE_LENGTH, POSTBACK_MACROS
from exchange.leads.domain import STATES
from exchange.pagination import PageQuerySchema
from exchange.schema_fields import UtcDateTime

MACROS_TEXT = ", ".join("{" + name + "}" for name in POSTBACK_MACROS)


class PostbackUrlInSchema(Schema):
    url_template = ma.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TEMPLATE_LENGTH),
        metadata={"description": f"http(s) URL; macros (URL-encoded when filled): {MACROS_TEXT}"},
    )
    status_map = ma.Dict(
        keys=ma.String(validate=validate.OneOf(STATES)),
        values=ma.String(validate=validate.Length(min=1, max=MAX_STATUS_NAME_LENGTH)),
        load_default=dict,
        metadata={
            "description": "Our status name -> your tracker's (unmapped statuses keep ours); "
            f"the keys are our statuses: {', '.join(STATES)}."
        },
    )


class PostbackUrlSchema(Schema):
    offer_id = ma.Integer(allow_none=True, metadata={"description": "null: the global URL"})
    url_template = ma.String(allow_none=True)
    status_map = ma.Dict()
    updated_at = UtcDateTime(allow_none=True)


class PostbackQuerySchema(PageQuerySchema):
    lead_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class PostbackAttemptSchema(Schema):
    number = ma.Integer()
    at = UtcDateTime()
    status_code = ma.Integer(allow_none=True)
    latency_ms = ma.Integer()
    error = ma.String(allow_none=True)
    response_excerpt = ma.String()


class PostbackDeliverySchema(Schema):
    id = ma.Integer()
    lead_id = ma.Integer()
    lead_status = ma.String(metadata={"description": "Our status name the lead moved to."})
    url = ma.String()
    state = ma.String(metadata={"description": "pending, delivered or failed"})
    attempts = ma.Integer()
    next_attempt_at = UtcDateTime(allow_none=True)
    delivered_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    attempt_log = ma.List(ma.Nested(PostbackAttemptSchema), data_key="attempt_log")

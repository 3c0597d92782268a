"""What the API accepts and shows for leads."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as ma

from exchange.bounds import MAX_ID
from exchange.leads.domain import STATES
from exchange.pagination import PageQuerySchema
from exchange.schema_fields import UtcDateTime


def sub_id() -> ma.String:
    return ma.String(validate=validate.Length(max=255), load_default=None)


class LeadSubmitSchema(Schema):
    click_id = ma.String(validate=validate.Length(min=1, max=64), load_default=None)
    offer_id = ma.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    sub1, sub2, sub3, sub4, sub5 = (sub_id() for _ in range(5))
    fields = ma.Dict(keys=ma.String(), required=True)
    ip = ma.IP(load_default=None, metadata={"description": "The visitor's IP (default: its click's)."})
    user_agent = ma.String(
        validate=validate.Length(max=512),
        metadata={"description": "The visitor's user agent (default: its click's, else this request's)."},
    )

    openapi_rules = {  # exchange/openapi.py: one of the two, not null
        "anyOf": [
            {"required": ["click_id"], "properties": {"click_id": {"type": "string"}}},
            {"required": ["offer_id"], "properties": {"offer_id": {"type": "integer"}}},
        ]
    }

    @validates_schema
    def _source(self, data: dict, **_kwargs) -> None:
        if not data.get("click_id") and not data.get("offer_id"):
            raise ValidationError("Send a click_id, or an offer_id with your sub ids.", "click_id")


class LeadDecisionSchema(Schema):
    reason = ma.String(validate=validate.Length(max=500), load_default=None)


class LeadQuerySchema(PageQuerySchema):
    status = ma.String(validate=validate.OneOf(STATES), load_default=None)
    offer_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class WebmasterLeadSchema(Schema):
    """The webmaster's view: its payout, never the advertiser's rate."""

    id = ma.Integer()
    status = ma.String()
    reason_codes = ma.List(ma.String())
    temperature = ma.String(
        allow_none=True, metadata={"description": "cold, warm or hot (docs/leads.md); null: not scored."}
    )
    offer_id = ma.Integer(allow_none=True, metadata={"description": "null for a lead sold on the exchange."})
    vertical_id = ma.Integer(allow_none=True, metadata={"description": "The exchange vertical, if any."})
    sub1, sub2, sub3, sub4, sub5 = (ma.String(allow_none=True) for _ in range(5))
    currency = ma.String(allow_none=True)
    payout_minor = ma.Integer(allow_none=True)
    txid = ma.String(
        allow_none=True,
        metadata={"description": "A conversion's transaction id (cpa, cps); null for a lead."},
    )
    sale_amount_minor = ma.Integer(allow_none=True)
    created_at = UtcDateTime()
    hold_until = UtcDateTime(allow_none=True)


class AdvertiserLeadSchema(WebmasterLeadSchema):
    webmaster_id = ma.Integer()
    fields = ma.Dict()
    findings = ma.List(
        ma.Dict(),
        metadata={"description": "Each finding of validation: code, severity (reject, flag, score), points."},
    )
    score = ma.Integer(allow_none=True, metadata={"description": "0-100, the sum of the findings' points."})
    phone_type = ma.String(
        allow_none=True, metadata={"description": "The phone's line type: mobile, fixed_line, voip, ..."}
    )
    rate_minor = ma.Integer(allow_none=True)
    pricing = ma.Dict(
        allow_none=True,
        metadata={"description": "The terms that priced it: model, rule_index, rule_id, custom_payout."},
    )
    review_deadline = UtcDateTime(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    decision_note = ma.String(allow_none=True)

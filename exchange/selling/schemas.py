"""What a seller sends with a lead for a vertical."""

from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as ma

from exchange.bounds import MAX_ID
from exchange.leads.schemas import sub_id
from exchange.schema_fields import UtcDateTime


class ConsentSchema(Schema):
    text = ma.String(
        required=True, validate=validate.Length(min=1, max=2000), metadata={"description": "As shown."}
    )
    given_at = ma.AwareDateTime(
        required=True, metadata={"description": "When the consumer agreed (with offset)."}
    )
    page_url = ma.URL(required=True, schemes={"http", "https"}, validate=validate.Length(max=2000))
    ip = ma.IP(load_default=None, metadata={"description": "The consumer's IP when agreeing."})
    certificate = ma.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "A consent certificate's id (a TrustedForm or Jornaya token)."},
    )


class ExchangeLeadSubmitSchema(Schema):
    fields = ma.Dict(keys=ma.String(), required=True)
    consent = ma.Nested(ConsentSchema, required=True)
    ip = ma.IP(load_default=None, metadata={"description": "The consumer's IP."})
    user_agent = ma.String(validate=validate.Length(max=512), load_default=None)
    sub1, sub2, sub3, sub4, sub5 = (sub_id() for _ in range(5))


class PingSchema(Schema):
    vertical_id = ma.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    fields = ma.Dict(
        keys=ma.String(), required=True, metadata={"description": "The vertical's non-personal fields only."}
    )


class QuoteSchema(Schema):
    ping_id = ma.String(
        allow_none=True, metadata={"description": "Post with it before expires_at; null: no price."}
    )
    price_minor = ma.Integer(metadata={"description": "What you earn at least if you post the lead in time."})
    currency = ma.String()
    expires_at = UtcDateTime(allow_none=True)
    reason = ma.String(allow_none=True, metadata={"description": "Why there is no price."})


class PostSchema(ExchangeLeadSubmitSchema):
    ping_id = ma.String(required=True, validate=validate.Length(min=1, max=40))


class PostAnswerSchema(Schema):
    lead_id = ma.Integer()
    status = ma.String(metadata={"description": "sold, unsold or rejected."})
    payout_minor = ma.Integer(metadata={"description": "What the sales pay you (0: not sold)."})
    currency = ma.String()
    reason = ma.String(allow_none=True, metadata={"description": "Why it was not sold."})

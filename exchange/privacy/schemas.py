"""What the privacy API takes and answers."""

from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as ma

from exchange.pagination import PageQuerySchema, page_schema
from exchange.privacy.domain import CAUSES
from exchange.schema_fields import UtcDateTime


class SubjectSchema(Schema):
    """One consumer, by one contact: an email or a phone (not both)."""

    openapi_rules = {  # exchange/openapi.py: exactly one of the two, not blank
        "oneOf": [
            {"required": ["email"], "properties": {"email": {"type": "string", "pattern": "\\S"}}},
            {"required": ["phone"], "properties": {"phone": {"type": "string", "pattern": "\\S"}}},
        ]
    }

    email = ma.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "The consumer's email, as any lead carried it (case is ignored)."},
    )
    phone = ma.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": "The consumer's phone, best in international form (+12025550101)."},
    )
    country = ma.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z]{2}$"),
        metadata={"description": "ISO 3166 alpha-2: the country of a phone written without its code."},
    )


class ErasuresQuerySchema(PageQuerySchema):
    cause = ma.String(load_default=None, validate=validate.OneOf(CAUSES))


class ErasureSchema(Schema):
    id = ma.Integer()
    cause = ma.String(metadata={"description": "request (by email or phone) or retention (the sweep)"})
    subject_kind = ma.String(allow_none=True, metadata={"description": "email or phone; null for retention"})
    actor_kind = ma.String()
    actor_user_id = ma.Integer(allow_none=True)
    actor_label = ma.String()
    counts = ma.Dict(
        keys=ma.String(), values=ma.Integer(), metadata={"description": "Rows erased, by table."}
    )
    rows_erased = ma.Integer()
    created_at = UtcDateTime()


ErasurePageSchema = page_schema(ErasureSchema)


class ConsentDataSchema(Schema):
    text = ma.String()
    given_at = UtcDateTime()
    ip = ma.String(allow_none=True)
    page_url = ma.String()


class ClickDataSchema(Schema):
    ip = ma.String(allow_none=True)
    user_agent = ma.String(allow_none=True)
    created_at = UtcDateTime()


class DisputeDataSchema(Schema):
    id = ma.Integer()
    kind = ma.String()
    status = ma.String()
    statement = ma.String()
    messages = ma.List(ma.String())


class LeadDataSchema(Schema):
    lead_id = ma.Integer()
    offer_id = ma.Integer(allow_none=True)
    vertical_id = ma.Integer(allow_none=True)
    status = ma.String()
    fields = ma.Dict(metadata={"description": 'As submitted; "[erased]" once erased.'})
    email = ma.String(allow_none=True)
    phone = ma.String(allow_none=True)
    country = ma.String(allow_none=True)
    ip = ma.String(allow_none=True)
    user_agent = ma.String(allow_none=True)
    created_at = UtcDateTime()
    erased_at = UtcDateTime(allow_none=True)
    consent = ma.Nested(ConsentDataSchema, allow_none=True)
    click = ma.Nested(ClickDataSchema, allow_none=True)
    recipient_ids = ma.List(
        ma.Integer(), metadata={"description": "The advertiser or buyers the lead was sent or sold to."}
    )
    disputes = ma.List(ma.Nested(DisputeDataSchema))


class ConsumerDataSchema(Schema):
    kind = ma.String(metadata={"description": "email or phone: what was asked about"})
    contact = ma.String(metadata={"description": "The contact, normalised as leads store it."})
    erased_at = ma.List(
        UtcDateTime(), metadata={"description": "When this contact's data was erased on request."}
    )
    leads = ma.List(ma.Nested(LeadDataSchema))

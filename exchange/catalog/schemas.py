"""What the catalog's API takes and answers: never a personal field."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as ma

from exchange.bounds import MAX_AMOUNT_MINOR, MAX_ID
from exchange.catalog.purchases import MAX_BASKET
from exchange.catalog.search import SORTS
from exchange.pagination import PageQuerySchema
from exchange.schema_fields import UtcDateTime, country
from exchange.verticals.domain import MAX_AGE_HOURS, TEMPERATURES


class CatalogFilterSchema(Schema):
    vertical_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    country = country(load_default=None)
    region = ma.String(load_default=None, validate=validate.Length(min=1, max=100))
    postcode_prefix = ma.String(load_default=None, validate=validate.Length(min=1, max=20))
    temperature = ma.String(load_default=None, validate=validate.OneOf(TEMPERATURES))
    min_score = ma.Integer(load_default=None, validate=validate.Range(min=0, max=100))
    max_age_hours = ma.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_AGE_HOURS),
        metadata={"description": "Captured at most this many hours ago."},
    )
    exclusive_only = ma.Boolean(
        load_default=False, metadata={"description": "Only leads no one has bought: buyable exclusively."}
    )
    sort = ma.String(
        load_default="newest",
        validate=validate.OneOf(SORTS),
        metadata={"description": "newest (captured last first), cheapest (price now), hottest (then score)."},
    )


class CatalogQuerySchema(PageQuerySchema, CatalogFilterSchema):
    pass


class SellerListingsQuerySchema(PageQuerySchema):
    """The seller's page of its listings (/webmaster/listings): all of them, those for sale
    first, or only those for sale now (``listed=true``) or not (``false``)."""

    vertical_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    listed = ma.Boolean(load_default=None, allow_none=True)


class PurchaseSchema(Schema):
    exclusive = ma.Boolean(
        load_default=False,
        metadata={"description": "Every slot, while no one has bought one (the slot price × slots)."},
    )
    expected_price_minor = ma.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR),
        metadata={
            "description": "The price you were shown: if it is no longer the price, 409 price_changed."
        },
    )


class PurchaseItemSchema(PurchaseSchema):
    lead_id = ma.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))


class BasketSchema(Schema):
    items = ma.List(
        ma.Nested(PurchaseItemSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_BASKET),
        metadata={"description": "Each lead once; every one is bought, or none."},
    )

    @validates_schema
    def _once(self, data: dict, **_kwargs) -> None:
        lead_ids = [item["lead_id"] for item in data.get("items", [])]
        if len(set(lead_ids)) != len(lead_ids):
            raise ValidationError("Each lead once.", "items")


class NextSchema(CatalogFilterSchema):
    """The search's filters and sort, and how many to buy."""

    count = ma.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_BASKET))
    max_price_minor = ma.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR),
        metadata={"description": "Pass by leads that cost more now."},
    )


class FindingSchema(Schema):
    code = ma.String()
    points = ma.Integer()


class _ListedLeadSchema(Schema):
    lead_id = ma.Integer()
    vertical_id = ma.Integer()
    vertical = ma.String(metadata={"description": "The vertical's name."})
    country = ma.String(allow_none=True)
    region = ma.String(
        allow_none=True, metadata={"description": "null where the vertical calls it personal."}
    )
    temperature = ma.String(allow_none=True)
    score = ma.Integer(allow_none=True)
    findings = ma.List(ma.Nested(FindingSchema), metadata={"description": "The score's breakdown."})
    consent = ma.Boolean(metadata={"description": "A consent record (text, time, page) came with the lead."})
    captured_at = UtcDateTime()
    age_seconds = ma.Integer()
    age_step_percent = ma.Integer(metadata={"description": "The percent of the floor the lead's age costs."})
    slots = ma.Integer()
    slots_sold = ma.Integer()
    currency = ma.String()


class CatalogItemSchema(_ListedLeadSchema):
    """A buyer's (and staff's) view: the prices, never the seller's payout."""

    price_minor = ma.Integer(metadata={"description": "One slot, now."})
    exclusive_price_minor = ma.Integer(
        allow_none=True, metadata={"description": "Every slot, while no one has bought one; else null."}
    )


class SellerListingSchema(_ListedLeadSchema):
    """A seller's view of its own listing: its payout, never the buyer's price."""

    payout_minor = ma.Integer(metadata={"description": "What one slot sold now earns you."})


class CatalogPageSchema(Schema):
    items = ma.List(ma.Nested(CatalogItemSchema))
    page = ma.Integer()
    per_page = ma.Integer()
    total = ma.Integer()


class SellerListingPageSchema(Schema):
    items = ma.List(ma.Nested(SellerListingSchema))
    page = ma.Integer()
    per_page = ma.Integer()
    total = ma.Integer()

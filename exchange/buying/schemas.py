"""What the API accepts and shows for buy orders and sales."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, validate, validates, validates_schema
from marshmallow import fields as ma

from exchange.bounds import MAX_AMOUNT_MINOR, MAX_ID, MAX_WINDOW_SECONDS
from exchange.buying.domain import DAYS, MAX_CONDITIONS, OPERATORS, PRICINGS, STATUSES, timezone_problem
from exchange.disputes.domain import SALE_RETURN_REASONS
from exchange.disputes.schemas import text
from exchange.offers.pricing import TEMPERATURES
from exchange.pagination import PageQuerySchema
from exchange.schema_fields import UtcDateTime, country

SALE_STATUSES = ("pending", "approved", "rejected", "returned", "voided")


def _amount(**kwargs) -> ma.Integer:
    return ma.Integer(strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR), **kwargs)


def _cap() -> ma.Integer:
    return ma.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=10**12)
    )


class ConditionSchema(Schema):
    field = ma.String(required=True, validate=validate.Length(min=1, max=40))
    op = ma.String(required=True, validate=validate.OneOf(OPERATORS))
    value = ma.Raw(required=True, metadata={"description": "A string, integer or boolean; a list for 'in'."})


class FiltersSchema(Schema):
    countries = ma.List(country(), load_default=list, metadata={"description": "Empty: any."})
    regions = ma.List(ma.String(validate=validate.Length(min=1, max=60)), load_default=list)
    postcode_prefixes = ma.List(ma.String(validate=validate.Length(min=1, max=12)), load_default=list)
    conditions = ma.List(
        ma.Nested(ConditionSchema),
        load_default=list,
        validate=validate.Length(max=MAX_CONDITIONS),
        metadata={"description": 'Non-personal fields only: {"field": "age", "op": ">=", "value": 25}.'},
    )
    min_temperature = ma.String(load_default=None, allow_none=True, validate=validate.OneOf(TEMPERATURES))
    min_score = ma.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0, max=100)
    )
    max_age_seconds = ma.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_WINDOW_SECONDS),
    )


class ScheduleSchema(Schema):
    timezone = ma.String(load_default="UTC", metadata={"description": "The buyer's IANA time zone."})
    days = ma.List(
        ma.Integer(strict=True, validate=validate.OneOf(DAYS)),
        load_default=lambda: list(DAYS),
        validate=validate.Length(min=1, max=7),
        metadata={"description": "0 = Monday … 6 = Sunday, each once.", "uniqueItems": True},
    )
    from_hour = ma.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=23))
    to_hour = ma.Integer(
        strict=True,
        load_default=24,
        validate=validate.Range(min=1, max=24),
        metadata={"description": "Exclusive; below from_hour the window spans midnight."},
    )

    @validates("timezone")
    def _timezone(self, value: str, **_kwargs) -> None:
        problem = timezone_problem(value)
        if problem:
            raise ValidationError(f"Give {problem}.")

    @validates_schema
    def _window(self, data: dict, **_kwargs) -> None:
        if data.get("from_hour", 0) == data.get("to_hour", 24):
            raise ValidationError("An empty window: from_hour equals to_hour.", "to_hour")
        if len(set(data.get("days", DAYS))) != len(data.get("days", DAYS)):
            raise ValidationError("A day appears twice.", "days")


class CapsSchema(Schema):
    hour_leads = _cap()
    day_leads = _cap()
    month_leads = _cap()
    hour_money_minor = _cap()
    day_money_minor = _cap()
    month_money_minor = _cap()


class BuyOrderCreateSchema(Schema):
    vertical_id = ma.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    name = ma.String(required=True, validate=validate.Length(min=1, max=200))
    status = ma.String(load_default="active", validate=validate.OneOf(STATUSES))
    exclusive = ma.Boolean(load_default=False, metadata={"description": "Buy the lead alone, or share it."})
    pricing = ma.String(load_default="fixed", validate=validate.OneOf(PRICINGS))
    bid_minor = _amount(load_default=None, allow_none=True, metadata={"description": "A fixed bid per slot."})
    ping_url = ma.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    max_bid_minor = _amount(
        load_default=None, allow_none=True, metadata={"description": "Pinged: the most a bid may be."}
    )
    post_url = ma.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "Where sold leads are posted; none: the delivery endpoint, or the API."},
    )
    filters = ma.Nested(FiltersSchema, load_default=dict)
    schedule = ma.Nested(ScheduleSchema, load_default=dict)
    caps = ma.Nested(CapsSchema, load_default=dict)
    openapi_rules = {  # exchange/openapi.py: a fixed order (the default) has a bid; a ping order pings
        "anyOf": [
            {
                "required": ["bid_minor"],
                "properties": {
                    "pricing": {"type": "string", "enum": ["fixed"]},
                    "bid_minor": {"type": "integer"},
                    "ping_url": {"maxLength": 0},
                    "max_bid_minor": {"maximum": 0},
                },
            },
            {
                "required": ["pricing", "ping_url", "max_bid_minor"],
                "properties": {
                    "pricing": {"type": "string", "enum": ["ping"]},
                    "bid_minor": {"nullable": True, "enum": [None]},
                    "ping_url": {"type": "string", "minLength": 1},
                    "max_bid_minor": {"type": "integer", "minimum": 1},
                },
            },
        ]
    }

    @validates_schema
    def _pricing(self, data: dict, **_kwargs) -> None:
        if data.get("pricing", "fixed") == "fixed":
            errors = {
                name: ["Only a ping order takes it."]
                for name in ("ping_url", "max_bid_minor")
                if data.get(name)
            }
            if data.get("bid_minor") is None:
                errors["bid_minor"] = ["A fixed order needs its bid."]
        else:
            errors = {
                name: ["A ping order needs it."]
                for name in ("ping_url", "max_bid_minor")
                if not data.get(name)
            }
            if data.get("bid_minor") is not None:
                errors["bid_minor"] = ["A ping order is priced by its answers, not by a fixed bid."]
        if errors:
            raise ValidationError(errors)


# Any subset of the settings, checked whole once merged with the rest (the service).
BuyOrderPatchSchema = Schema.from_dict(
    {name: ma.Raw(allow_none=True) for name in BuyOrderCreateSchema().fields}, name="BuyOrderPatch"
)


class TodaySchema(Schema):
    wins = ma.Integer()
    spend_minor = ma.Integer()


class BuyOrderSchema(Schema):
    id = ma.Integer()
    buyer_id = ma.Integer()
    vertical_id = ma.Integer()
    name = ma.String()
    status = ma.String()
    exclusive = ma.Boolean()
    pricing = ma.String()
    bid_minor = ma.Integer(allow_none=True)
    ping_url = ma.String(allow_none=True)
    max_bid_minor = ma.Integer(allow_none=True)
    post_url = ma.String(allow_none=True)
    filters = ma.Dict()
    schedule = ma.Dict()
    caps = ma.Dict()
    created_at = UtcDateTime()
    today = ma.Nested(TodaySchema, metadata={"description": "Sales and spend since midnight, buyer's time."})


class SaleSchema(Schema):
    """A buyer's purchase, or (without the buyer) a seller's sale."""

    id = ma.Integer()
    lead_id = ma.Integer()
    vertical_id = ma.Integer()
    buy_order_id = ma.Integer(allow_none=True)
    auction_id = ma.Integer(allow_none=True)
    exclusive = ma.Boolean()
    currency = ma.String()
    price_minor = ma.Integer(metadata={"description": "Buyers and staff only."})
    payout_minor = ma.Integer(metadata={"description": "Sellers and staff only."})
    status = ma.String()
    post_status = ma.String()
    sold_of = ma.String(metadata={"description": "Buyers: 'sold N of M' slots of this consumer."})
    review_deadline = UtcDateTime(allow_none=True)
    hold_until = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    lead = ma.Dict(metadata={"description": "Buyers: the lead bought, whole (fields, score, temperature)."})
    return_until = UtcDateTime(
        allow_none=True,
        metadata={
            "description": "An approved sale: its buyer may return it before then (never past the hold)."
        },
    )
    return_dispute_id = ma.Integer(
        allow_none=True, metadata={"description": "The return asked of this sale, if any (a dispute)."}
    )


class SaleReturnSchema(Schema):
    reason = ma.String(
        required=True,
        validate=validate.OneOf(sorted(SALE_RETURN_REASONS)),
        metadata={"description": "Why: GET /api/v1/disputes/reasons lists each with what it means."},
    )
    evidence = text(
        4000,
        required=True,
        metadata={"description": "What shows it: calls made and when, what the consumer said, the record."},
    )


class SaleFilterSchema(Schema):
    status = ma.String(load_default=None, validate=validate.OneOf(SALE_STATUSES))
    vertical_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class SaleQuerySchema(PageQuerySchema, SaleFilterSchema):
    pass


UNTIL_AFTER_SINCE = "until: later than since"  # a rule said in words (exchange/openapi.py)


class SaleCsvQuerySchema(SaleFilterSchema):
    """The filters of ``GET /api/v1/sales`` and a window on when each sale was made (no
    pages: the CSV has every matching sale)."""

    since = ma.NaiveDateTime(
        timezone=UTC,
        load_default=None,
        metadata={"description": "Bought at or after (ISO 8601; no offset means UTC)."},
    )
    until = ma.NaiveDateTime(
        timezone=UTC, load_default=None, metadata={"description": "Bought before; later than since."}
    )

    @validates_schema
    def _in_order(self, data: dict, **_kwargs) -> None:
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("Must be later than since.", "until")


class SaleDecisionSchema(Schema):
    reason = ma.String(load_default=None, validate=validate.Length(max=500))


class SalesReportQuerySchema(Schema):
    group_by = ma.String(
        load_default="vertical",
        validate=validate.OneOf(("vertical", "buyer", "seller", "country", "temperature", "day")),
        metadata={"description": "buyer and seller: staff only."},
    )
    since = ma.NaiveDateTime(
        timezone=UTC, load_default=None, metadata={"description": "Sold at or after (UTC)."}
    )
    until = ma.NaiveDateTime(timezone=UTC, load_default=None, metadata={"description": "Sold before (UTC)."})

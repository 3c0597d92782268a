"""What the API accepts and shows for verticals. Margins are for staff only."""

from __future__ import annotations

from copy import deepcopy

from flask import url_for
from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as ma

from exchange.bounds import MAX_AMOUNT_MINOR, MAX_WINDOW_SECONDS
from exchange.offers.schemas import LeadFieldSchema
from exchange.schema_fields import UtcDateTime, country, currency, retention_days
from exchange.verticals.domain import (
    ANY_COUNTRY,
    DEFAULT_AGEING,
    MAX_AGE_HOURS,
    MAX_SLOTS,
    MAX_STEPS,
    SELLER_STATUSES,
    STATUSES,
    TEMPERATURES,
    ageing_problems,
    floor_problems,
    vertical_field_problems,
)


class AgeingStepSchema(Schema):
    after_hours = ma.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_AGE_HOURS))
    percent = ma.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))


class AgeingSchema(Schema):
    """The catalog's price of a lead by its age: the floor times the percent of the step
    its age has reached; gone from the catalog at gone_after_hours."""

    steps = ma.List(
        ma.Nested(AgeingStepSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_STEPS),
        metadata={"description": "From 0 hours, each later than the one before, percents never rising."},
    )
    gone_after_hours = ma.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_AGE_HOURS)
    )

    @validates_schema
    def _schedule(self, data: dict, **_kwargs) -> None:
        problems = ageing_problems(data)
        if problems:
            raise ValidationError(problems)


def _window(default: int) -> ma.Integer:
    return ma.Integer(
        strict=True, load_default=default, validate=validate.Range(min=0, max=MAX_WINDOW_SECONDS)
    )


class VerticalCreateSchema(Schema):
    name = ma.String(required=True, validate=validate.Length(min=1, max=200))
    description = ma.String(load_default="", validate=validate.Length(max=2000))
    status = ma.String(load_default="active", validate=validate.OneOf(STATUSES))
    currency = currency(required=True)
    fields = ma.List(ma.Nested(LeadFieldSchema), required=True, validate=validate.Length(min=1, max=60))
    personal_fields = ma.List(
        ma.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        metadata={"description": "Fields never pinged to buyers; phone and email fields always are."},
    )
    allowed_countries = ma.List(country(), load_default=list, metadata={"description": "Empty: any."})
    floors = ma.Dict(
        keys=ma.String(validate=validate.Regexp(r"\A([A-Z]{2}|\*)\Z", error="A country code, or *.")),
        values=ma.Dict(
            keys=ma.String(validate=validate.OneOf(TEMPERATURES)),
            values=ma.Integer(strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR)),
        ),
        required=True,
        metadata={
            "description": "Least price of one slot, minor units, by country (or * for the rest) and "
            'temperature: {"US": {"cold": 500, "warm": 900, "hot": 1500}}.',
            "minProperties": 1,
        },
    )
    margin_bps = ma.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=9999))
    margin_minor = ma.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_AMOUNT_MINOR)
    )
    slots = ma.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(min=1, max=MAX_SLOTS),
        metadata={"description": "Most sales of one lead: 1 sells it exclusively only."},
    )
    sellers_need_approval = ma.Boolean(load_default=True)
    duplicate_window_seconds = _window(30 * 86400)
    retention_days = retention_days()
    review_window_seconds = _window(3 * 86400)
    hold_seconds = _window(14 * 86400)
    return_window_seconds = _window(7 * 86400)
    return_cap_percent = ma.Integer(
        strict=True,
        load_default=20,
        allow_none=True,
        validate=validate.Range(min=0, max=100),
        metadata={
            "description": "A buyer's returns of one month's purchases, at most this percent; null: no cap."
        },
    )
    ageing = ma.Nested(AgeingSchema, load_default=lambda: deepcopy(DEFAULT_AGEING))

    @validates_schema
    def _consistent(self, data: dict, **_kwargs) -> None:
        errors: dict[str, list[str]] = {}
        problems = vertical_field_problems(
            [dict(spec) for spec in data.get("fields", [])], data.get("personal_fields", [])
        )
        if problems:
            errors["fields"] = problems
        problems = floor_problems(data.get("floors", {}), data.get("allowed_countries", []))
        if not data.get("floors"):
            problems.append(f"name the floor of at least one country (or {ANY_COUNTRY})")
        if problems:
            errors["floors"] = problems
        if data.get("margin_bps") and data.get("margin_minor"):
            errors["margin_minor"] = ["Give a percentage (margin_bps) or a fixed margin, not both."]
        if data.get("return_window_seconds", 0) > data.get("hold_seconds", 14 * 86400):
            errors["return_window_seconds"] = ["The return window cannot be longer than the hold."]
        if errors:
            raise ValidationError(errors)


# Any subset of the settings, checked whole once merged with the rest (the service).
VerticalPatchSchema = Schema.from_dict(
    {name: ma.Raw(allow_none=True) for name in VerticalCreateSchema().fields}, name="VerticalPatch"
)


class VerticalSchema(Schema):
    """Staff's view: everything."""

    id = ma.Integer()
    name = ma.String()
    description = ma.String()
    status = ma.String()
    currency = ma.String()
    fields = ma.List(ma.Dict())
    personal_fields = ma.List(ma.String())
    allowed_countries = ma.List(ma.String())
    floors = ma.Dict()
    margin_bps = ma.Integer()
    margin_minor = ma.Integer()
    slots = ma.Integer()
    sellers_need_approval = ma.Boolean()
    duplicate_window_seconds = ma.Integer()
    review_window_seconds = ma.Integer()
    hold_seconds = ma.Integer()
    return_window_seconds = ma.Integer()
    return_cap_percent = ma.Integer(allow_none=True)
    retention_days = ma.Integer(allow_none=True)
    ageing = ma.Nested(AgeingSchema)
    created_at = UtcDateTime()


class MarketVerticalSchema(Schema):
    """What buyers and sellers see: no margin. Buyers bid at least the floors."""

    id = ma.Integer()
    name = ma.String()
    description = ma.String()
    status = ma.String()
    currency = ma.String()
    fields = ma.List(ma.Dict())
    personal_fields = ma.List(ma.String())
    allowed_countries = ma.List(ma.String())
    floors = ma.Dict()
    slots = ma.Integer()
    review_window_seconds = ma.Integer(metadata={"description": "A buyer rejects a sale within it."})
    return_window_seconds = ma.Integer(
        metadata={"description": "A buyer may return an approved sale within it, counted from its approval."}
    )
    return_cap_percent = ma.Integer(
        allow_none=True,
        metadata={"description": "A buyer's returns, at most this percent of a month's purchases."},
    )
    ageing = ma.Nested(AgeingSchema, metadata={"description": "The catalog's prices by a lead's age."})
    standing = ma.String(
        allow_none=True, metadata={"description": "A seller's standing on the vertical (None: not joined)."}
    )


class SellerSchema(Schema):
    id = ma.Integer()
    vertical_id = ma.Integer()
    webmaster_id = ma.Integer()
    status = ma.String(validate=validate.OneOf(SELLER_STATUSES))
    decided_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    tracking_link = ma.Method(
        "_tracking_link",
        metadata={
            "description": "Share it (append sub1..sub5): a click, then the hosted form of the vertical "
            "with the click's id. It serves visitors while the seller is active."
        },
    )

    def _tracking_link(self, seller) -> str:
        return vertical_links(seller.token)["tracking_link"]


def vertical_links(token: str) -> dict[str, str]:
    """A seller's vertical link (a click, then the form) and the form's own address (no click)."""
    return {
        "tracking_link": url_for("vertical_forms.vertical_click", token=token, _external=True),
        "form_link": url_for("vertical_forms.vertical_form", token=token, _external=True),
    }

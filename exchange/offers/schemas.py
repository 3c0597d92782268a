"""What the API accepts and shows for offers. Webmasters never see rates."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as ma

from exchange.bounds import MAX_AMOUNT_MINOR, MAX_WINDOW_SECONDS
from exchange.disputes.domain import RETURN_REASONS
from exchange.leads.patterns import MAX_CHOICE_LENGTH, MAX_CHOICES, pattern_problem
from exchange.money import BPS_WHOLE
from exchange.offers.domain import (
    FIELD_NAME,
    FIELD_TYPES,
    MAX_LANDINGS,
    STATUSES,
    TRAFFIC_SOURCES,
    VISIBILITIES,
    field_list_problems,
    landing_url_problem,
)
from exchange.offers.pricing import CPL, MODELS, TEMPERATURES, rule_list_problems
from exchange.schema_fields import UtcDateTime, country, currency, retention_days


def amount() -> ma.Integer:
    return ma.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR)
    )


def bps() -> ma.Integer:
    return ma.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=BPS_WHOLE)
    )


def _check_prices(data: dict) -> None:
    """Fixed prices (rate_minor, payout_minor) for any model, or shares of the sale in basis
    points (rate_bps, payout_bps) for cps; the payout never above the rate; valid rules."""
    model = data.get("model", CPL)
    percentage = data.get("rate_bps") is not None or data.get("payout_bps") is not None
    if percentage and model != "cps":
        raise ValidationError("Only a cps offer takes prices in basis points.", "rate_bps")
    pair = ("rate_bps", "payout_bps") if percentage else ("rate_minor", "payout_minor")
    other = ("rate_minor", "payout_minor") if percentage else ()
    errors = {name: ["Required."] for name in pair if data.get(name) is None}
    both = "Give fixed amounts or basis points, not both."
    errors.update({name: [both] for name in other if data.get(name) is not None})
    if errors:
        raise ValidationError(errors)
    if data[pair[1]] > data[pair[0]]:
        raise ValidationError("The payout may not exceed the rate.", pair[1])
    rules = data.get("payout_rules", [])
    problems = rule_list_problems(rules, model) or [
        f"rule {index}: the payout must be at least 1"
        for index, rule in enumerate(rules)
        if rule.get("payout_minor") == 0 or rule.get("payout_bps") == 0
    ]
    if problems:
        raise ValidationError(problems, "payout_rules")


def cap() -> ma.Integer:
    return ma.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=10**7)
    )


DUPLICATE_SCOPES = ("offer", "advertiser")
AUTO_APPROVALS = ("none", "all", "hot")
PATTERN_TYPES = ("string",)  # the types a pattern may constrain
CHOICE_TYPES = {"string": str, "integer": int}  # the types that take a list of allowed values


class LeadFieldSchema(Schema):
    name = ma.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"pattern": f"^{FIELD_NAME.pattern}$"},
    )
    type = ma.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = ma.Boolean(load_default=False)
    pattern = ma.String(
        allow_none=True,
        metadata={"description": "A regular expression the whole value must match (string fields)."},
    )
    choices = ma.List(
        ma.Raw(),
        allow_none=True,
        validate=validate.Length(min=1, max=MAX_CHOICES),
        metadata={"description": "The values allowed (string and integer fields)."},
    )

    @validates_schema
    def _constraints(self, data: dict, **_kwargs) -> None:
        field_type = data.get("type")
        if data.get("pattern") is not None:
            if field_type not in PATTERN_TYPES:
                raise ValidationError("Only a string field takes a pattern.", "pattern")
            problem = pattern_problem(data["pattern"])
            if problem:
                raise ValidationError(problem[0].upper() + problem[1:] + ".", "pattern")
        if data.get("choices") is not None:
            kind = CHOICE_TYPES.get(field_type)
            if kind is None:
                raise ValidationError("Only a string or integer field takes choices.", "choices")
            if not all(type(value) is kind for value in data["choices"]):
                raise ValidationError(f"Each choice must be a {field_type}.", "choices")
            if any(len(value) > MAX_CHOICE_LENGTH for value in data["choices"] if kind is str):
                raise ValidationError(f"A choice may be at most {MAX_CHOICE_LENGTH} characters.", "choices")
            if len(set(data["choices"])) != len(data["choices"]):
                raise ValidationError("A choice appears twice.", "choices")


class LandingSchema(Schema):
    url = ma.String(required=True, validate=validate.Length(min=1, max=2000))
    weight = ma.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))


class OfferCreateSchema(Schema):
    name = ma.String(required=True, validate=validate.Length(min=1, max=200))
    description = ma.String(load_default="", validate=validate.Length(max=20_000))
    terms = ma.String(load_default="", validate=validate.Length(max=20_000))
    traffic_sources = ma.List(ma.String(validate=validate.OneOf(TRAFFIC_SOURCES)), load_default=list)
    landing_urls = ma.List(
        ma.Nested(LandingSchema), load_default=list, validate=validate.Length(max=MAX_LANDINGS)
    )
    model = ma.String(load_default=CPL, validate=validate.OneOf(MODELS))
    currency = currency(required=True)
    rate_minor = amount()
    payout_minor = amount()
    rate_bps = bps()
    payout_bps = bps()
    payout_rules = ma.List(ma.Dict(), load_default=list)  # checked whole in _consistent
    allowed_countries = ma.List(country(), load_default=list)
    fields = ma.List(ma.Nested(LeadFieldSchema), load_default=list)
    landing_url = ma.String(required=True, validate=validate.Length(max=2000))
    trafficback_url = ma.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    status = ma.String(load_default="active", validate=validate.OneOf(STATUSES))
    visibility = ma.String(load_default="public", validate=validate.OneOf(VISIBILITIES))
    duplicate_window_seconds = ma.Integer(
        strict=True, load_default=30 * 86400, validate=validate.Range(min=0, max=MAX_WINDOW_SECONDS)
    )
    retention_days = retention_days()
    review_window_seconds = ma.Integer(
        strict=True, load_default=3 * 86400, validate=validate.Range(min=0, max=MAX_WINDOW_SECONDS)
    )
    daily_cap = cap()
    monthly_cap = cap()
    webmaster_daily_cap = cap()
    webmaster_monthly_cap = cap()
    hold_seconds = ma.Integer(
        strict=True, load_default=14 * 86400, validate=validate.Range(min=0, max=MAX_WINDOW_SECONDS)
    )
    return_window_seconds = ma.Integer(
        strict=True, load_default=7 * 86400, validate=validate.Range(min=0, max=MAX_WINDOW_SECONDS)
    )
    low_balance_minor = amount()
    # Disputes (docs/disputes.md).
    # At least an hour each: a window of nothing would let an advertiser shut appeals out,
    # or leave the other party no time to answer.
    appeal_window_seconds = ma.Integer(
        strict=True, load_default=7 * 86400, validate=validate.Range(min=3600, max=MAX_WINDOW_SECONDS)
    )
    dispute_answer_seconds = ma.Integer(
        strict=True, load_default=3 * 86400, validate=validate.Range(min=3600, max=MAX_WINDOW_SECONDS)
    )
    auto_return_reasons = ma.List(
        ma.String(validate=validate.OneOf(tuple(RETURN_REASONS))), load_default=list
    )
    auto_return_cap_count = ma.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0, max=1_000_000)
    )
    auto_return_cap_percent = ma.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0, max=100)
    )
    fraud_review = ma.Boolean(load_default=False)
    # Validation (docs/leads.md).
    duplicate_scope = ma.String(load_default="offer", validate=validate.OneOf(DUPLICATE_SCOPES))
    min_temperature = ma.String(load_default=None, allow_none=True, validate=validate.OneOf(TEMPERATURES))
    auto_approve = ma.String(load_default="none", validate=validate.OneOf(AUTO_APPROVALS))
    min_click_to_lead_seconds = ma.Integer(
        strict=True, load_default=3, validate=validate.Range(min=0, max=3600)
    )
    max_leads_per_ip_per_hour = ma.Integer(
        strict=True, load_default=5, validate=validate.Range(min=0, max=100_000)
    )
    attribution_window_seconds = ma.Integer(
        strict=True, load_default=30 * 86400, validate=validate.Range(min=0, max=MAX_WINDOW_SECONDS)
    )

    @validates_schema
    def _consistent(self, data: dict, **_kwargs) -> None:
        _check_prices(data)
        if data.get("return_window_seconds", 7 * 86400) > data.get("hold_seconds", 14 * 86400):
            raise ValidationError(
                "The return window cannot be longer than the hold: a returned lead's payout must "
                "still be on hold.",
                "return_window_seconds",
            )
        capped = (
            data.get("auto_return_cap_count") is not None or data.get("auto_return_cap_percent") is not None
        )
        if data.get("auto_return_reasons") and not capped:
            raise ValidationError(
                "An automatic return rule needs a cap (auto_return_cap_count, auto_return_cap_percent).",
                "auto_return_reasons",
            )
        if data.get("model", CPL) == CPL and not data.get("fields"):
            raise ValidationError("A cpl offer needs at least one lead field.", "fields")
        for name in ("landing_url", "trafficback_url"):
            problem = data.get(name) is not None and landing_url_problem(data.get(name, ""))
            if problem:
                raise ValidationError(f"Must be {problem}.", name)
        for index, landing in enumerate(data.get("landing_urls", [])):
            problem = landing_url_problem(landing["url"])
            if problem:
                raise ValidationError(f"Landing {index} must be {problem}.", "landing_urls")
        problems = field_list_problems(data.get("fields", []))
        if problems:
            raise ValidationError(problems, "fields")
        if data.get("allowed_countries") and not any(f["type"] == "country" for f in data.get("fields", [])):
            raise ValidationError(
                "An offer limited to countries needs a lead field of type country.",
                "allowed_countries",
            )


IMMUTABLE = ("currency", "model")
OfferPatchSchema = Schema.from_dict(
    {name: ma.Raw(allow_none=True) for name in OfferCreateSchema().fields}, name="OfferPatch"
)  # any subset of the offer's settings; checked as a whole once merged (services.update_offer)


class _OfferPublicFields(Schema):
    id = ma.Integer()
    visibility = ma.String()
    name = ma.String()
    description = ma.String()
    terms = ma.String()
    traffic_sources = ma.List(ma.String())
    model = ma.String()
    currency = ma.String()
    payout_minor = ma.Integer(allow_none=True)
    payout_bps = ma.Integer(allow_none=True)
    allowed_countries = ma.List(ma.String())
    fields = ma.List(ma.Nested(LeadFieldSchema))
    status = ma.String()
    daily_cap = cap()
    monthly_cap = cap()
    webmaster_daily_cap = cap()
    webmaster_monthly_cap = cap()
    hold_seconds = ma.Integer()
    review_window_seconds = ma.Integer()
    return_window_seconds = ma.Integer()
    appeal_window_seconds = ma.Integer()
    dispute_answer_seconds = ma.Integer()
    auto_return_reasons = ma.List(ma.String())
    auto_return_cap_count = ma.Integer(allow_none=True)
    auto_return_cap_percent = ma.Integer(allow_none=True)
    fraud_review = ma.Boolean()


class CatalogOfferSchema(_OfferPublicFields):
    """The webmaster's view: the payout, never the rate or the margin."""

    payout_rules = ma.List(
        ma.Dict(), metadata={"description": "The rules that can price your leads: payouts only, no rate."}
    )  # filled by the view (exchange/offers/api.py), never dumped from the offer


class OfferSchema(_OfferPublicFields):
    """The advertiser's own view."""

    rate_minor = ma.Integer(allow_none=True)
    rate_bps = ma.Integer(allow_none=True)
    payout_rules = ma.List(ma.Dict())
    landing_urls = ma.List(ma.Nested(LandingSchema))
    daily_cap = ma.Integer(allow_none=True)
    monthly_cap = ma.Integer(allow_none=True)
    webmaster_daily_cap = ma.Integer(allow_none=True)
    webmaster_monthly_cap = ma.Integer(allow_none=True)
    landing_url = ma.String()
    trafficback_url = ma.String(allow_none=True)
    duplicate_window_seconds = ma.Integer()
    duplicate_scope = ma.String()
    retention_days = ma.Integer(allow_none=True)
    min_temperature = ma.String(allow_none=True)
    auto_approve = ma.String()
    min_click_to_lead_seconds = ma.Integer()
    max_leads_per_ip_per_hour = ma.Integer()
    attribution_window_seconds = ma.Integer()
    low_balance_minor = ma.Integer(allow_none=True)
    paused_for = ma.String(allow_none=True)
    created_at = UtcDateTime()


class ParticipationSchema(Schema):
    id = ma.Integer()
    offer_id = ma.Integer()
    webmaster_id = ma.Integer()
    status = ma.String()
    custom_payout_minor = ma.Integer(allow_none=True)
    custom_payout_bps = ma.Integer(allow_none=True)
    traffic_sources = ma.List(ma.String())
    decision_reason = ma.String(allow_none=True)
    tracking_link = ma.String()
    created_at = UtcDateTime()

"""The advertiser's offers: the list, a new offer, and every setting of one offer.

The form is only a translation of the API's body: it is loaded through
``OfferCreateSchema`` (a new offer) or ``update_offer`` (an edit), so the rules are the
API's, and a refusal shows the schema's messages next to the fields (422). Money is
written in major units (``15.00``); shares in basis points; windows in seconds; the lead
fields, payout rules and weighted landings as the API's JSON."""

from __future__ import annotations

import json

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError, missing
from werkzeug.datastructures import MultiDict

from advertisers.views.common import bp
from exchange.accounts.views import role_required
from exchange.db import commit, rollback
from exchange.disputes.domain import RETURN_REASONS
from exchange.errors import AppError, field_messages
from exchange.money import MINOR_DIGITS, parse_major
from exchange.offers.domain import STATUSES, TRAFFIC_SOURCES, VISIBILITIES
from exchange.offers.pricing import MODELS, TEMPERATURES
from exchange.offers.schemas import AUTO_APPROVALS, DUPLICATE_SCOPES, OfferCreateSchema
from exchange.offers.services import create_offer, offers_visible_to, own_offer, update_offer

TEXTS = (
    "name",
    "description",
    "terms",
    "landing_url",
    "status",
    "visibility",
    "duplicate_scope",
    "auto_approve",
)
OPTIONAL_TEXTS = ("trafficback_url", "min_temperature")
MONEY = ("rate_minor", "payout_minor", "low_balance_minor")  # written in major units
OPTIONAL_NUMBERS = (
    "rate_bps", "payout_bps", "daily_cap", "monthly_cap", "webmaster_daily_cap", "webmaster_monthly_cap",
    "auto_return_cap_count", "auto_return_cap_percent", "retention_days",
)  # fmt: skip
NUMBERS = (
    "duplicate_window_seconds", "review_window_seconds", "hold_seconds", "return_window_seconds",
    "appeal_window_seconds", "dispute_answer_seconds", "min_click_to_lead_seconds",
    "max_leads_per_ip_per_hour", "attribution_window_seconds",
)  # fmt: skip
JSON_LISTS = ("fields", "payout_rules", "landing_urls")
MANY = ("traffic_sources", "auto_return_reasons")
CREATE_ONLY = ("model", "currency")


def choices() -> dict:
    return {
        "statuses": STATUSES,
        "visibilities": VISIBILITIES,
        "models": MODELS,
        "temperatures": TEMPERATURES,
        "duplicate_scopes": DUPLICATE_SCOPES,
        "auto_approvals": AUTO_APPROVALS,
        "traffic_sources": TRAFFIC_SOURCES,
        "return_reasons": tuple(RETURN_REASONS),
    }


def read_form(form: MultiDict, currency: str, *, creating: bool) -> tuple[dict, dict]:
    """The API's body from the form, and the messages of what could not be read."""
    data: dict = {}
    errors: dict[str, list[str]] = {}
    for name in TEXTS + (CREATE_ONLY if creating else ()):
        if form.get(name, "").strip():
            data[name] = form[name].strip()
    for name in ("description", "terms"):
        data[name] = form.get(name, "")
    for name in OPTIONAL_TEXTS:
        data[name] = form.get(name, "").strip() or None
    for name in MONEY:
        text = form.get(name, "").strip()
        try:
            data[name] = parse_major(text, currency) if text else None
        except ValueError as error:
            errors[name] = [f"Write an amount like 15.00 ({error})."]
    for name in OPTIONAL_NUMBERS + NUMBERS:
        text = form.get(name, "").strip()
        if not text:
            if name in OPTIONAL_NUMBERS:
                data[name] = None
        elif text.lstrip("-").isdigit():
            data[name] = int(text)
        else:
            errors[name] = ["Write a whole number."]
    for name in JSON_LISTS:
        text = form.get(name, "").strip()
        try:
            value = json.loads(text) if text else []
        except ValueError as error:
            errors[name] = [f"Not JSON: {error}."]
            continue
        if not isinstance(value, list):
            errors[name] = ["Write a JSON list: [ ... ]."]
        data[name] = value
    data["allowed_countries"] = [
        c.strip().upper() for c in form.get("allowed_countries", "").split(",") if c.strip()
    ]
    for name in MANY:
        data[name] = form.getlist(name)
    data["fraud_review"] = form.get("fraud_review") == "on"
    return data, errors


def form_values(offer_settings: dict, currency: str) -> dict:
    """The form's text for settings as the schema dumps them."""
    values: dict = {}
    for name, value in offer_settings.items():
        if name in MONEY:
            values[name] = "" if value is None else major_text(value, currency)
        elif name in JSON_LISTS:
            values[name] = json.dumps(value or [], indent=2)
        elif name == "allowed_countries":
            values[name] = ", ".join(value or [])
        elif name in MANY or name == "fraud_review":
            values[name] = value
        else:
            values[name] = "" if value is None else str(value)
    return values


def schema_defaults() -> dict:
    """A new offer's settings as the API would default them."""
    defaults = {}
    for name, field in OfferCreateSchema().fields.items():
        if field.load_default is not missing:
            default = field.load_default
            defaults[name] = default() if callable(default) else default
    return {**defaults, "currency": "USD"}


def major_text(amount_minor: int, currency: str) -> str:
    digits = MINOR_DIGITS.get(currency, 2)
    whole, fraction = divmod(amount_minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


def posted_values(form: MultiDict) -> dict:
    values = {name: form.get(name, "") for name in form}
    for name in MANY:
        values[name] = form.getlist(name)
    values["fraud_review"] = form.get("fraud_review") == "on"
    return values


@bp.get("/offers")
@role_required("advertiser")
def offers():
    return render_template("advertiser_offers.html", offers=offers_visible_to(current_user))


@bp.route("/offers/new", methods=["GET", "POST"])
@role_required("advertiser")
def new_offer():
    if request.method == "GET":
        return _offer_form(None, form_values(schema_defaults(), "USD"), {})
    currency = request.form.get("currency", "").strip().upper()
    data, errors = read_form(request.form, currency, creating=True)
    if not errors:
        try:
            offer = create_offer(current_user.id, OfferCreateSchema().load(data))
            commit()
            return redirect(url_for(".offer", offer_id=offer.id, created=1), code=303)
        except ValidationError as error:
            errors = field_messages(error.messages)
    return _offer_form(None, posted_values(request.form), errors), 422


@bp.route("/offers/<id:offer_id>", methods=["GET", "POST"])
@role_required("advertiser")
def offer(offer_id: int):
    found = own_offer(current_user.id, offer_id)  # another advertiser's: 404
    if request.method == "GET":
        return _offer_form(found, form_values(OfferCreateSchema().dump(found), found.currency), {})
    data, errors = read_form(request.form, found.currency, creating=False)
    if not errors:
        try:
            update_offer(current_user.id, offer_id, data)
            commit()
            return redirect(url_for(".offer", offer_id=offer_id, saved=1), code=303)
        except AppError as refused:
            rollback()
            errors = {"form": [refused.message], **field_messages(refused.fields)}
            found = own_offer(current_user.id, offer_id)
    return _offer_form(found, posted_values(request.form), errors), 422


def _offer_form(offer, values: dict, errors: dict):
    return render_template(
        "advertiser_offer.html",
        offer=offer,
        values=values,
        errors=errors,
        created=request.args.get("created"),
        saved=request.args.get("saved"),
        **choices(),
    )

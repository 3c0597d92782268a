"""The webmaster's payouts: balances, a request, the list, and the payout settings (rail,
schedule, thresholds) changed through the API's schema (PayoutSettingsSchema) and service
(save_settings), so the page refuses exactly what ``PUT /api/v1/payout-settings`` refuses."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from billing.payouts.api import PayoutSettingsSchema
from billing.payouts.domain import RAILS, SCHEDULES
from billing.payouts.models import Payout
from billing.payouts.services import ask_for_payout, payout_minimum
from billing.payouts.settings import ONLY_FOR, save_settings, settings_of
from billing.services import balances_of
from exchange.accounts.views import role_required
from exchange.bounds import MAX_AMOUNT_MINOR
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.extensions import db
from exchange.money import MINOR_DIGITS, parse_major
from webmasters.api import PayoutRequestSchema
from webmasters.views.common import bp, flat_messages

PAYOUTS_SHOWN = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SETTINGS_FIELDS = ("rail", "stripe_account_id", "schedule", "weekday", "day_of_month")


@bp.get("/payouts")
@role_required("webmaster")
def payouts():
    currencies = _currencies()
    return _payouts_page({"amount": "", "currency": currencies[0]}, {})


@bp.post("/payouts")
@role_required("webmaster")
def request_payout():
    values = {"amount": request.form.get("amount", "").strip(), "currency": request.form.get("currency", "")}
    currencies = _currencies()
    if values["currency"] not in currencies:
        return _payouts_page(values, {"currency": [f"Choose one of {', '.join(currencies)}."]}), 422
    try:
        amount_minor = parse_major(values["amount"], values["currency"])
        PayoutRequestSchema().load({"currency": values["currency"], "amount_minor": amount_minor})
    except ValueError as error:
        return _payouts_page(values, {"amount": [f"Write the amount like 120.00 ({error})."]}), 422
    except ValidationError:  # the API's bounds: more than zero, at most MAX_AMOUNT_MINOR
        most = _major(MAX_AMOUNT_MINOR, values["currency"])
        return _payouts_page(values, {"amount": [f"Write an amount above zero and at most {most}."]}), 422

    try:
        payout = ask_for_payout(current_user.id, values["currency"], amount_minor).payout
    except AppError as refused:
        rollback()
        messages = [message for messages in refused.fields.values() for message in messages]
        return _payouts_page(values, {"amount": [refused.message, *messages]}), refused.status
    commit()
    flash(f"Payout {payout.id} of {values['amount']} {values['currency']} requested.", "notice")
    return redirect(url_for(".payouts"), code=303)


@bp.post("/payouts/settings")
@role_required("webmaster")
def save_payout_settings():
    form = {name: request.form.get(name, "").strip() for name in SETTINGS_FIELDS}
    form["thresholds"] = {
        currency: request.form.get(f"threshold_{currency}", "").strip()
        for currency in _threshold_currencies()
    }
    data, errors = _settings_data(form)
    if not errors:
        try:
            save_settings(current_user.id, PayoutSettingsSchema().load(data))
        except ValidationError as error:
            errors = _settings_errors(error.messages_dict)
        except AppError as refused:
            errors = _settings_errors(refused.fields or {"rail": [refused.message]})
    if errors:
        rollback()
        return _payouts_page(_request_values(), {}, settings_form=form, settings_errors=errors), 422
    commit()
    flash("Payout settings saved.", "notice")
    return redirect(url_for(".payouts", _anchor="payout-settings"), code=303)


# -- the settings form ---------------------------------------------------------------------------


def _settings_data(form: dict) -> tuple[dict, dict]:
    """The form as the API's schema takes it: blank is "not set", whole numbers as numbers
    (anything else is left for the schema to refuse), thresholds in major units as minor.
    A field the chosen rail or schedule does not use (the weekday of a monthly schedule)
    is dropped: the form shows them all, the API would refuse them."""
    data: dict = {name: form[name] for name in SETTINGS_FIELDS if form[name]}
    for name, (switch, value, _message) in ONLY_FOR.items():
        if data.get(switch) != value:
            data.pop(name, None)
    for name in ("weekday", "day_of_month"):
        if data.get(name, "").isdigit():
            data[name] = int(data[name])
    errors: dict = {}
    thresholds: dict = {}
    for currency, text in form["thresholds"].items():
        if not text:
            continue
        try:
            thresholds[currency] = parse_major(text, currency)
        except ValueError as error:
            errors[f"threshold_{currency}"] = [f"Write an amount like 120.00 ({error})."]
    data["thresholds_minor"] = thresholds
    return data, errors


def _settings_errors(fields: dict) -> dict:
    """The schema's and the service's messages under the form's own field names."""
    errors: dict = {}
    for name, problems in fields.items():
        if name == "thresholds_minor" and isinstance(problems, dict):
            for currency, messages in problems.items():
                errors[f"threshold_{currency}"] = flat_messages(messages)
        else:
            errors[name if name in SETTINGS_FIELDS else "rail"] = flat_messages(problems)
    return errors


def _settings_form() -> dict:
    """The stored settings (or the defaults) as the form shows them."""
    settings = settings_of(current_user.id)
    thresholds = settings.thresholds_minor or {}
    return {
        "rail": settings.rail,
        "stripe_account_id": settings.stripe_account_id or "",
        "schedule": settings.schedule,
        "weekday": str(settings.weekday or ""),
        "day_of_month": str(settings.day_of_month or ""),
        "thresholds": {
            currency: _major(thresholds[currency], currency) if currency in thresholds else ""
            for currency in _threshold_currencies()
        },
    }


def _major(amount_minor: int, currency: str) -> str:
    digits = MINOR_DIGITS.get(currency, 2)
    whole, fraction = divmod(amount_minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


def _threshold_currencies() -> list[str]:
    """The currencies the webmaster holds money in, and any it has a threshold for."""
    saved = settings_of(current_user.id).thresholds_minor or {}
    return sorted(set(_currencies()) | set(saved))


# -- the page -----------------------------------------------------------------------------------


def _currencies() -> list[str]:
    """The currencies the webmaster holds money in (USD before any money has moved)."""
    return sorted({b.currency for b in balances_of(current_user.id)}) or ["USD"]


def _request_values() -> dict:
    return {"amount": "", "currency": _currencies()[0]}


def _payouts_page(
    values: dict, errors: dict, settings_form: dict | None = None, settings_errors: dict | None = None
):
    currencies = _currencies()
    return render_template(
        "webmaster_payouts.html",
        values=values,
        errors=errors,
        currencies=currencies,
        minimums={currency: payout_minimum(currency) for currency in _threshold_currencies()},
        balances=balances_of(current_user.id),
        payouts=db.session.scalars(
            select(Payout)
            .where(Payout.webmaster_id == current_user.id)
            .order_by(Payout.id.desc())
            .limit(PAYOUTS_SHOWN)
        ).all(),
        settings=settings_of(current_user.id),
        settings_form=settings_form or _settings_form(),
        settings_errors=settings_errors or {},
        rails=RAILS,
        schedules=SCHEDULES,
        weekdays=WEEKDAYS,
    )

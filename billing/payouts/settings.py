"""A webmaster's payout settings: the rail (manual, or Stripe Connect to a connected
account) and the schedule (on demand, weekly, monthly) with thresholds per currency.
Services flush; callers commit."""

from __future__ import annotations

from billing.payouts.domain import MONTHLY, STRIPE_ACCOUNT_ID, STRIPE_CONNECT, WEEKLY, Schedule
from billing.payouts.models import PayoutSettings
from billing.payouts.services import payout_minimum
from billing.topups import gateway as stripe_gateway
from exchange import clock
from exchange.errors import Conflict, Invalid
from exchange.extensions import db
from exchange.money import format_minor

ONLY_FOR = {
    "stripe_account_id": ("rail", STRIPE_CONNECT, "Only with the stripe_connect rail."),
    "weekday": ("schedule", WEEKLY, "Only with a weekly schedule."),
    "day_of_month": ("schedule", MONTHLY, "Only with a monthly schedule."),
}
NEEDED_BY = {
    "stripe_account_id": ("rail", STRIPE_CONNECT, "The stripe_connect rail needs your connected account."),
    "weekday": ("schedule", WEEKLY, "A weekly schedule needs a weekday (1 = Monday ... 7 = Sunday)."),
    "day_of_month": ("schedule", MONTHLY, "A monthly schedule needs a day of the month (1 to 31)."),
}


def settings_of(webmaster_id: int) -> PayoutSettings:
    """The stored settings, or the defaults (manual, on demand) unsaved."""
    settings = db.session.get(PayoutSettings, webmaster_id)
    if settings is None:
        settings = PayoutSettings(
            webmaster_id=webmaster_id, rail="manual", schedule="on_demand", thresholds_minor={}
        )
    return settings


def schedule_of(settings: PayoutSettings) -> Schedule:
    return Schedule(settings.schedule, settings.weekday, settings.day_of_month)


def save_settings(webmaster_id: int, data: dict) -> PayoutSettings:
    """Replace the webmaster's settings with ``data`` (fields already of the right type,
    as the API schema loads them); refuses a combination that does not hold together."""
    data = {
        "rail": data.get("rail") or "manual",
        "stripe_account_id": data.get("stripe_account_id"),
        "schedule": data.get("schedule") or "on_demand",
        "weekday": data.get("weekday"),
        "day_of_month": data.get("day_of_month"),
        "thresholds_minor": dict(data.get("thresholds_minor") or {}),
    }
    problems = _problems(data)
    if problems:
        raise Invalid("Some payout settings do not hold together.", fields=problems)
    if data["rail"] == STRIPE_CONNECT and not stripe_gateway.configured():
        raise Conflict(
            "Stripe Connect payouts are not set up on this exchange; choose the manual rail.",
            code="stripe_not_configured",
        )
    settings = db.session.get(PayoutSettings, webmaster_id)
    if settings is None:
        settings = PayoutSettings(webmaster_id=webmaster_id)
        db.session.add(settings)
    for name, value in data.items():
        setattr(settings, name, value)
    settings.updated_at = clock.now()
    db.session.flush()
    return settings


def _problems(data: dict) -> dict:
    problems: dict = {}
    for name, (switch, value, message) in ONLY_FOR.items():
        if data[name] is not None and data[switch] != value:
            problems[name] = [message]
    for name, (switch, value, message) in NEEDED_BY.items():
        if data[name] is None and data[switch] == value:
            problems[name] = [message]
    account = data["stripe_account_id"]
    if account is not None and not STRIPE_ACCOUNT_ID.fullmatch(account):
        problems["stripe_account_id"] = ["A Stripe connected account id: acct_ and letters or digits."]
    low = {
        currency: [f"At least {format_minor(payout_minimum(currency), currency)}."]
        for currency, threshold in sorted(data["thresholds_minor"].items())
        if threshold < payout_minimum(currency)
    }
    if low:
        problems["thresholds_minor"] = low
    return problems

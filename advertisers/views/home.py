"""The advertiser's home: the dashboard, and the card top-up page."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from advertisers.views.common import bp
from advertisers.views.dashboard import dashboard_of
from advertisers.views.first_steps import first_steps_of
from billing.services import balances_of
from billing.topups import gateway as stripe_gateway
from billing.topups.models import Topup
from billing.topups.services import start_topup
from exchange.accounts.views import role_required
from exchange.bounds import MAX_AMOUNT_MINOR
from exchange.db import commit, rollback
from exchange.disputes.queries import disputes_of
from exchange.errors import Invalid
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.money import parse_major
from exchange.notifications.services import latest_for
from exchange.offers.services import offers_visible_to
from exchange.security_headers import allow_sources

TOPUP_CURRENCIES = ("USD", "EUR")  # offered besides the currencies of the advertiser's own offers
STRIPE_API = "https://api.stripe.com"  # what Stripe.js calls (STRIPE_API_BASE: localstripe, in the tests)


@bp.get("/")
@role_required("advertiser")
def home():
    """Traffic and spend, leads by status, the approval rate and a chart of decisions per day
    (from the report rollups; the chart's data also as a table: the page reads without
    JavaScript), then balances, offers, latest leads, disputes."""
    leads = db.session.scalars(
        select(Lead).where(Lead.advertiser_id == current_user.id).order_by(Lead.id.desc()).limit(20)
    ).all()
    balances = balances_of(current_user.id)
    return render_template(
        "advertiser.html",
        first_steps=first_steps_of(current_user.id, any(b.available_minor > 0 for b in balances)),
        offers=offers_visible_to(current_user),
        leads=leads,
        **dashboard_of(current_user),
        balances=balances,
        disputes=disputes_of(current_user.id),
        notifications=latest_for(current_user.id),
    )


@bp.route("/topup", methods=["GET", "POST"])
@role_required("advertiser")
def topup():
    """The amount here; the card in Stripe's own Element on the confirm step. Nothing is
    credited from this page: only Stripe's verified ``payment_intent.succeeded`` webhook credits."""
    offers = offers_visible_to(current_user)
    currencies = sorted({offer.currency for offer in offers} | set(TOPUP_CURRENCIES))
    values = {"amount": "", "currency": offers[0].currency if offers else "USD"}
    if not _card_topups_enabled() or request.method == "GET":
        return _topup_page(currencies, values)
    values = {"amount": request.form.get("amount", "").strip(), "currency": request.form.get("currency", "")}
    amount_minor, errors = _read_amount(values, currencies)
    if errors:
        return _topup_page(currencies, values, errors), 422
    try:
        started, client_secret = start_topup(current_user.id, values["currency"], amount_minor)
    except (Invalid, stripe_gateway.ProviderUnavailable) as error:  # 422, or 502 when Stripe fails
        rollback()
        return _topup_page(currencies, values, error.fields or {"form": [error.message]}), error.status
    commit()
    page = _topup_page(currencies, values, started=started, client_secret=client_secret)
    return page, 200, {"Cache-Control": "no-store"}  # the client secret is on it


def _card_topups_enabled() -> bool:
    return stripe_gateway.configured() and bool(current_app.config.get("STRIPE_PUBLISHABLE_KEY"))


def _read_amount(values: dict, currencies: list[str]) -> tuple[int | None, dict]:
    """The amount in minor units, or the field messages that explain why not."""
    currency = values["currency"]
    if currency not in currencies:
        return None, {"currency": [f"Choose one of {', '.join(currencies)}."]}
    try:
        amount_minor = parse_major(values["amount"], currency)
    except ValueError as error:
        return None, {"amount": [f"Write the amount like 120.00 ({error})."]}
    if amount_minor > MAX_AMOUNT_MINOR:
        return None, {"amount": ["That amount is too large."]}
    return amount_minor, {}


def _allow_stripe_js() -> None:
    """Stripe.js on the card step: its script, its card frames, and the API it talks to."""
    config = current_app.config
    stripe = (config["STRIPE_JS_URL"], config.get("STRIPE_API_BASE"), STRIPE_API)
    allow_sources("script-src", config["STRIPE_JS_URL"])
    allow_sources("frame-src", *stripe)
    allow_sources("connect-src", *stripe)


def _topup_page(currencies: list[str], values: dict, errors: dict | None = None, **confirm) -> str:
    _allow_stripe_js()
    recent = db.session.scalars(
        select(Topup).where(Topup.advertiser_id == current_user.id).order_by(Topup.id.desc()).limit(10)
    ).all()
    return render_template(
        "topup.html",
        enabled=_card_topups_enabled(),
        currencies=currencies,
        values=values,
        errors=errors or {},
        recent=recent,
        publishable_key=current_app.config.get("STRIPE_PUBLISHABLE_KEY"),
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        **confirm,
    )

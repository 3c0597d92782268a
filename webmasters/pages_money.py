"""The webmaster's postback settings (the global URL template, a test postback, the
attempt log) and payouts (balances, a request, the list, the payout settings)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from billing.models import Payout
from billing.payouts.services import ask_for_payout, payout_minimum
from billing.payouts.settings import settings_of
from billing.services import balances_of
from exchange.accounts.views import role_required
from exchange.db import commit, rollback
from exchange.delivery.models import PostbackAttempt, PostbackDelivery
from exchange.delivery.postback_test import send_test_postback
from exchange.delivery.services import postback_url_of, set_postback_url
from exchange.errors import AppError
from exchange.extensions import db
from exchange.leads.domain import STATES
from exchange.money import parse_major
from webmasters.pages_common import bp, refusal_text

ATTEMPTS_SHOWN = 50
PAYOUTS_SHOWN = 100


# -- postbacks ----------------------------------------------------------------------------------


@bp.get("/postbacks")
@role_required("webmaster")
def postbacks():
    setting = postback_url_of(current_user.id, None)
    values = {
        "url_template": setting.url_template if setting else "",
        "status_map": dict(setting.status_map or {}) if setting else {},
    }
    return _postbacks_page(values, {}, saved=setting is not None)


@bp.post("/postbacks")
@role_required("webmaster")
def save_postbacks():
    values = {
        "url_template": request.form.get("url_template", "").strip(),
        "status_map": {
            status: request.form.get(f"status_{status}", "").strip()
            for status in STATES
            if request.form.get(f"status_{status}", "").strip()
        },
    }
    if not values["url_template"]:
        return _postbacks_page(values, {"url_template": ["Write the URL of your tracker."]}), 422
    try:
        set_postback_url(current_user.id, None, values["url_template"], values["status_map"])
    except AppError as refused:
        rollback()
        return _postbacks_page(values, refused.fields or {"form": [refused.message]}), refused.status
    commit()
    flash("Postback URL saved.", "notice")
    return redirect(url_for(".postbacks"), code=303)


@bp.post("/postbacks/test")
@role_required("webmaster")
def test_postback():
    try:
        sent = send_test_postback(current_user.id)
    except AppError as refused:
        flash(refusal_text(refused))
        return redirect(url_for(".postbacks"), code=303)
    result = sent.result
    answer = f"HTTP {result.status_code}" if result.status_code is not None else "no answer"
    summary = f"Test postback to {sent.url}: {answer} in {result.latency_ms} ms"
    if sent.delivered:
        flash(f"{summary}.", "notice")
    else:
        flash(f"{summary}: {result.error}.")
    return redirect(url_for(".postbacks"), code=303)


def _postbacks_page(values: dict, errors: dict, saved: bool = True):
    attempts = db.session.execute(
        select(PostbackAttempt, PostbackDelivery)
        .join(PostbackDelivery, PostbackAttempt.delivery_id == PostbackDelivery.id)
        .where(PostbackDelivery.webmaster_id == current_user.id)
        .order_by(PostbackAttempt.at.desc(), PostbackAttempt.id.desc())
        .limit(ATTEMPTS_SHOWN)
    ).all()
    return render_template(
        "webmaster_postbacks.html",
        values=values,
        errors=errors,
        saved=saved,
        statuses=STATES,
        attempts=attempts,
    )


# -- payouts ------------------------------------------------------------------------------------


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
        if amount_minor <= 0:
            raise ValueError("more than zero")
    except ValueError as error:
        return _payouts_page(values, {"amount": [f"Write the amount like 120.00 ({error})."]}), 422

    try:
        payout = ask_for_payout(current_user.id, values["currency"], amount_minor).payout
    except AppError as refused:
        rollback()
        messages = [message for messages in refused.fields.values() for message in messages]
        return _payouts_page(values, {"amount": [refused.message, *messages]}), refused.status
    commit()
    flash(f"Payout {payout.id} of {values['amount']} {values['currency']} requested.", "notice")
    return redirect(url_for(".payouts"), code=303)


def _currencies() -> list[str]:
    """The currencies the webmaster holds money in (USD before any money has moved)."""
    return sorted({b.currency for b in balances_of(current_user.id)}) or ["USD"]


def _payouts_page(values: dict, errors: dict):
    currencies = _currencies()
    return render_template(
        "webmaster_payouts.html",
        values=values,
        errors=errors,
        currencies=currencies,
        minimums={currency: payout_minimum(currency) for currency in currencies},
        balances=balances_of(current_user.id),
        payouts=db.session.scalars(
            select(Payout)
            .where(Payout.webmaster_id == current_user.id)
            .order_by(Payout.id.desc())
            .limit(PAYOUTS_SHOWN)
        ).all(),
        settings=settings_of(current_user.id),
    )

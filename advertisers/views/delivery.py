"""The advertiser's lead delivery: its endpoint URL (the global one), the signing secret
(shown once, when it is made or rotated), a test lead sent by a job on the ``delivery``
queue, and the latest delivery attempts with the test leads among them.

The services are the API's (exchange/delivery/leads/settings.py). A page that shows a secret
is the answer to the POST that made it, never stored in the session nor cached."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from advertisers.views.common import bp, refusal_text
from exchange.accounts.views import role_required
from exchange.db import commit, rollback
from exchange.delivery import sample_sends
from exchange.delivery.leads import domain as webhook
from exchange.delivery.leads.models import LeadDelivery, LeadDeliveryAttempt
from exchange.delivery.leads.sample import KIND, queue_test_lead
from exchange.delivery.leads.settings import put_setting, rotate_secret, setting_of
from exchange.errors import AppError
from exchange.extensions import db

ATTEMPTS_SHOWN = 50
NO_STORE = {"Cache-Control": "no-store"}


def _attempts() -> list[dict]:
    """The latest attempts to deliver this advertiser's leads and its test leads, newest
    first, as the table's rows."""
    real = db.session.execute(
        select(LeadDeliveryAttempt, LeadDelivery.lead_id)
        .join(LeadDelivery, LeadDelivery.id == LeadDeliveryAttempt.delivery_id)
        .where(LeadDelivery.advertiser_id == current_user.id)
        .order_by(LeadDeliveryAttempt.at.desc(), LeadDeliveryAttempt.id.desc())
        .limit(ATTEMPTS_SHOWN)
    )
    rows = [
        {
            "test": False,
            "at": attempt.at,
            "lead_id": lead_id,
            "number": attempt.number,
            "status_code": attempt.status_code,
            "latency_ms": attempt.latency_ms,
            "error": attempt.error,
            "decision": attempt.decision,
            "decision_result": attempt.decision_result,
        }
        for attempt, lead_id in real
    ]
    for sample in sample_sends.sends_of(current_user.id, KIND):
        rows.append(
            {
                **sample_sends.log_row(sample),
                "decision": sample.decision,
                "decision_result": "shown, not applied" if sample.decision else None,
            }
        )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows[:ATTEMPTS_SHOWN]


def _page(status: int = 200, **shown):
    setting = setting_of(current_user.id, None)
    page = render_template(
        "advertiser_delivery.html",
        setting=setting,
        hint=webhook.secret_hint(setting.signing_secret) if setting else None,
        attempts=_attempts(),
        url_value=shown.pop("url_value", setting.url if setting else ""),
        **shown,
    )
    return page, status, NO_STORE


@bp.get("/delivery")
@role_required("advertiser")
def delivery():
    return _page()


@bp.post("/delivery/url")
@role_required("advertiser")
def save_delivery_url():
    url = (request.form.get("url") or "").strip()
    try:
        saved = put_setting(current_user.id, None, url)
        commit()
    except AppError as refused:
        rollback()
        errors = refused.fields or {"url": [refused.message]}
        return _page(422, errors=errors, url_value=url)
    return _page(notice="Saved.", secret=saved.secret)  # a first endpoint's new secret, once


@bp.post("/delivery/rotate-secret")
@role_required("advertiser")
def rotate_delivery_secret():
    try:
        saved = rotate_secret(current_user.id, None)
        commit()
    except AppError as refused:
        rollback()
        flash(f"Not done: {refusal_text(refused)}")
        return redirect(url_for(".delivery"), code=303)
    return _page(notice="A new secret signs your deliveries from now on.", secret=saved.secret)


@bp.post("/delivery/test")
@role_required("advertiser")
def send_delivery_test():
    try:
        queue_test_lead(current_user.id, None)
        commit()  # the job leaves now (in-process: it has run when this returns)
    except AppError as refused:
        rollback()
        return _page(409, problem=refusal_text(refused))
    flash("Test lead queued: its answer appears in the delivery attempts below.", "notice")
    return redirect(url_for(".delivery", _anchor="attempts"), code=303)

"""The webmaster's postback settings: the global URL template, one URL per joined offer
(blank: the global one), test postbacks sent by a job, and the attempt log with the tests.

Forms load through the API's schema (PostbackUrlInSchema) and save through its service
(set_postback_url), so a page refuses exactly what the API refuses."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from exchange.accounts.views import role_required
from exchange.db import commit, rollback
from exchange.delivery import sample_sends
from exchange.delivery.postbacks.models import PostbackAttempt, PostbackDelivery, PostbackUrl
from exchange.delivery.postbacks.sample import KIND, SAMPLE, queue_test_postback
from exchange.delivery.postbacks.schemas import PostbackUrlInSchema
from exchange.delivery.postbacks.services import (
    postback_url_of,
    remove_postback_url,
    require_joined,
    set_postback_url,
)
from exchange.errors import AppError, NotFound
from exchange.extensions import db
from exchange.leads.domain import STATES
from exchange.offers.models import Offer
from exchange.offers.services import participations_of
from webmasters.views.common import bp, flat_messages, refusal_text

ATTEMPTS_SHOWN = 50
NOT_JOINED = "invited"  # an invitation is not a join: no override for it (require_joined)


@bp.get("/postbacks")
@role_required("webmaster")
def postbacks():
    setting = postback_url_of(current_user.id, None)
    return _postbacks_page(_values_of(setting), {}, saved=setting is not None)


@bp.post("/postbacks")
@role_required("webmaster")
def save_postbacks():
    values = _form_values()
    if not values["url_template"]:
        return _postbacks_page(values, {"url_template": ["Write the URL of your tracker."]}), 422
    errors = _save(None, values)
    if errors:
        return _postbacks_page(values, errors), 422
    flash("Postback URL saved.", "notice")
    return redirect(url_for(".postbacks"), code=303)


@bp.post("/postbacks/test")
@role_required("webmaster")
def test_postback():
    return _queue_test(None)


@bp.get("/postbacks/offers/<id:offer_id>")
@role_required("webmaster")
def offer_postback(offer_id: int):
    offer = _joined_offer(offer_id)
    override = postback_url_of(current_user.id, offer_id)
    values = _values_of(override)
    if override is None:  # a new override starts with the global URL's status names
        values["status_map"] = _values_of(postback_url_of(current_user.id, None))["status_map"]
    return _offer_page(offer, values, {}, override is not None)


@bp.post("/postbacks/offers/<id:offer_id>")
@role_required("webmaster")
def save_offer_postback(offer_id: int):
    offer = _joined_offer(offer_id)
    values = _form_values()
    if not values["url_template"]:
        remove_postback_url(current_user.id, offer_id)
        commit()
        flash(f"{offer.name}: its leads use your global postback URL.", "notice")
        return redirect(url_for(".postbacks"), code=303)
    errors = _save(offer_id, values)
    if errors:
        has_override = postback_url_of(current_user.id, offer_id) is not None
        return _offer_page(offer, values, errors, has_override), 422
    flash(f"{offer.name}: its own postback URL saved.", "notice")
    return redirect(url_for(".postbacks"), code=303)


@bp.post("/postbacks/offers/<id:offer_id>/test")
@role_required("webmaster")
def test_offer_postback(offer_id: int):
    _joined_offer(offer_id)
    return _queue_test(offer_id)


# -- the work behind the forms ------------------------------------------------------------------


def _form_values() -> dict:
    return {
        "url_template": request.form.get("url_template", "").strip(),
        "status_map": {
            status: request.form.get(f"status_{status}", "").strip()
            for status in STATES
            if request.form.get(f"status_{status}", "").strip()
        },
    }


def _values_of(setting: PostbackUrl | None) -> dict:
    return {
        "url_template": setting.url_template if setting else "",
        "status_map": dict(setting.status_map or {}) if setting else {},
    }


def _save(offer_id: int | None, values: dict) -> dict | None:
    """Save through the API's schema and service and commit; the field messages otherwise."""
    try:
        data = PostbackUrlInSchema().load(values)
        set_postback_url(current_user.id, offer_id, data["url_template"], data["status_map"])
    except ValidationError as error:
        rollback()
        return {name: flat_messages(problems) for name, problems in error.messages_dict.items()}
    except AppError as refused:
        rollback()
        return refused.fields or {"form": [refused.message]}
    commit()
    return None


def _queue_test(offer_id: int | None):
    try:
        queue_test_postback(current_user.id, offer_id)
        commit()  # the job leaves now (in-process: it has run when this returns)
    except AppError as refused:
        rollback()
        flash(refusal_text(refused))
        return redirect(url_for(".postbacks"), code=303)
    flash("Test postback queued: its answer appears in the attempt log below.", "notice")
    return redirect(url_for(".postbacks", _anchor="attempts"), code=303)


def _joined_offer(offer_id: int) -> Offer:
    """One of the webmaster's joined offers; any other offer is not found (404)."""
    try:
        require_joined(current_user.id, offer_id)
    except NotFound:
        abort(404)
    return db.session.get(Offer, offer_id)


# -- pages --------------------------------------------------------------------------------------


def _postbacks_page(values: dict, errors: dict, saved: bool = True):
    return render_template(
        "webmaster_postbacks.html",
        values=values,
        errors=errors,
        saved=saved,
        statuses=STATES,
        offers=_joined_offers(),
        attempts=_attempt_log(),
        sample=SAMPLE,
    )


def _offer_page(offer: Offer, values: dict, errors: dict, has_override: bool):
    return render_template(
        "webmaster_offer_postback.html",
        offer=offer,
        values=values,
        errors=errors,
        has_override=has_override,
        statuses=STATES,
        global_url=_values_of(postback_url_of(current_user.id, None))["url_template"],
    )


def _joined_offers() -> list[tuple[Offer, str | None]]:
    """Each joined offer with its own URL template (None: the global one is used)."""
    overrides = {
        row.offer_id: row.url_template
        for row in db.session.scalars(
            select(PostbackUrl).where(
                PostbackUrl.webmaster_id == current_user.id, PostbackUrl.offer_id.is_not(None)
            )
        )
    }
    joined = [p for p in participations_of(current_user.id) if p.status != NOT_JOINED]
    return [(p.offer, overrides.get(p.offer_id)) for p in joined]


def _attempt_log() -> list[dict]:
    """Attempts at real postbacks and the test postbacks, newest first, as table rows."""
    real = db.session.execute(
        select(PostbackAttempt, PostbackDelivery)
        .join(PostbackDelivery, PostbackAttempt.delivery_id == PostbackDelivery.id)
        .where(PostbackDelivery.webmaster_id == current_user.id)
        .order_by(PostbackAttempt.at.desc(), PostbackAttempt.id.desc())
        .limit(ATTEMPTS_SHOWN)
    ).all()
    rows = [
        {
            "test": False,
            "at": attempt.at,
            "lead": delivery.lead_id,
            "status": delivery.lead_status,
            "number": attempt.number,
            "status_code": attempt.status_code,
            "latency_ms": attempt.latency_ms,
            "error": attempt.error,
        }
        for attempt, delivery in real
    ]
    for sample in sample_sends.sends_of(current_user.id, KIND):
        rows.append(
            {
                **sample_sends.log_row(sample),
                "lead": "test" + (f" (offer {sample.offer_id})" if sample.offer_id else ""),
                "status": SAMPLE.status,
            }
        )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows[:ATTEMPTS_SHOWN]

"""``GET/POST /f/<token>``: the offer's fields as an accessible HTML form.

The form carries the visitor's click id, asks for consent (the text shown,
the time, the IP and the page's URL are stored with the lead), has a
honeypot field that people never see, and goes through the same intake and
validation as the API.

``GET /c/<token>/form`` is the link to it that a webmaster shares: a tracking
link whose landing is the form. The visit is recorded as a click on
``/c/<token>`` is (sub ids, GEO, caps and trafficback alike), then the visitor
is sent to the form with the click's id, so the lead is tied to its click."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, render_template, request, url_for

from exchange import clock
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.errors import Invalid
from exchange.leads.intake import submit_lead
from exchange.moderation.partners.services import in_good_standing
from exchange.offers.services import participation_by_token
from exchange.rate_limits import hosted_form_per_address
from exchange.tracking import clickids
from exchange.tracking.links import link_target
from exchange.tracking.services import click_key
from exchange.tracking.views import send_visitor, visit_link

bp = Blueprint("forms", __name__)
HONEYPOT = "website"
INPUT_TYPES = {"string": "text", "email": "email", "phone": "tel", "country": "text", "integer": "number"}


def consent_text(offer_name: str) -> str:
    return (
        f"I agree to be contacted about \u201c{offer_name}\u201d by phone or email "
        "with the details I entered, and I may withdraw this at any time."
    )


def _served(token: str):
    """The participation whose form this link serves; 404 when there is none to serve."""
    participation = participation_by_token(token)
    if (
        participation is None
        or participation.status != "active"
        or participation.offer.status != "active"
        or participation.offer.model != "cpl"  # cpa / cps conversions come from the advertiser
        or not in_good_standing(participation.webmaster_id)  # webmaster pending approval or banned
    ):
        abort(404)
    return participation


@bp.get("/c/<token>/form")
def form_click(token: str):
    """A click on the link, then the form with its click id (or, when the click may not go to
    the offer, the link's trafficback, as ``/c/<token>`` answers)."""
    _served(token)
    target = link_target(token, current_app.config["LINK_CACHE_SECONDS"])
    outcome = visit_link(target, request)
    if outcome.trafficback_reason is not None:
        return send_visitor(outcome.redirect_to)
    return send_visitor(url_for(".lead_form", token=token, click_id=outcome.click_id, _external=True))


@bp.route("/f/<token>", methods=["GET", "POST"])
@hosted_form_per_address
def lead_form(token: str):
    participation = _served(token)
    offer = participation.offer
    click_id = _own_click_id(request.values.get("click_id", ""), participation.id)
    values: dict = {}
    errors: dict = {}
    if request.method == "POST":
        taken, values, errors = take_form(
            offer.fields, lambda values: _submit(participation, values, click_id)
        )
        if taken:
            return render_template("form_thanks.html", subject=offer)
    status = 422 if errors else 200
    return render_template(
        "form.html",
        subject=offer,
        click_id=click_id,
        values=values,
        errors=errors,
        input_types=INPUT_TYPES,
        consent=consent_text(offer.name),
        honeypot=HONEYPOT,
    ), status


def _own_click_id(click_id: str, participation_id: int) -> str:
    """The click id if it is a genuine click on this very link; otherwise none
    (the form's own link still attributes the lead)."""
    claims = clickids.verify(click_key(), click_id) if click_id else None
    return click_id if claims and claims.participation_id == participation_id else ""


def _submit(participation, values: dict, click_id: str) -> None:
    payload = {
        "click_id": click_id or None,
        "offer_id": None if click_id else participation.offer_id,
        "fields": values,
        "ip": request.remote_addr,
        **{f"sub{n}": None for n in range(1, 6)},
    }
    consent = {
        "text": consent_text(participation.offer.name),
        "given_at": clock.now(),
        "ip": request.remote_addr,
        "page_url": request.url[:2000],
    }
    submit_lead(participation.webmaster_id, payload, Actor.system("hosted form"), consent=consent)


def take_form(fields: list[dict], submit: Callable[[dict], object]) -> tuple[bool, dict, dict]:
    """A hosted form sent: (taken, its values, its errors by field). Without consent nothing
    is submitted; a refused submission is rolled back, a taken one committed. A bot's (the
    honeypot filled in) is "taken" and kept nowhere."""
    if request.form.get(HONEYPOT):
        return True, {}, {}
    values = form_values(fields)
    if not request.form.get("consent"):
        return False, values, {"consent": ["Please tick the box to agree to be contacted."]}
    try:
        submit(values)
    except Invalid as error:
        rollback()
        return False, values, error.fields.get("fields", error.fields)
    commit()
    return True, values, {}


def form_values(specs: list[dict]) -> dict:
    """The form's values, typed as the fields (an offer's or a vertical's) expect; empty
    inputs left out."""
    values: dict = {}
    for spec in specs:
        raw = request.form.get(spec["name"], "").strip()
        if spec["type"] == "boolean":
            values[spec["name"]] = bool(raw)
        elif raw and spec["type"] == "integer":
            values[spec["name"]] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif raw:
            values[spec["name"]] = raw
    return values

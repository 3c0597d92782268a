"""A seller's vertical link and its hosted form.

``GET /v/<token>`` is the tracking link a seller shares: the visit is recorded as a
click (sub ids, GEO, IP, user agent, pass-through parameters; buffered like every
click), then the visitor is sent to ``GET /v/<token>/form`` with the click's id.
The form shows the vertical's fields and a consent naming the vertical; sent, it is
taken in as the API takes a seller's lead (exchange/selling/form.py), so validation
and the auction follow alike. A token that serves no form (unknown, the seller not
active on the vertical, the vertical paused, the webmaster pending or banned) is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for

from exchange import clock
from exchange.db import commit
from exchange.forms.views import HONEYPOT, INPUT_TYPES, take_form
from exchange.rate_limits import hosted_form_per_address
from exchange.selling.form import Visitor, form_consent_text, own_click_id, serving_seller, submit_form
from exchange.tracking.links import vertical_link_target
from exchange.tracking.services import record_vertical_click
from exchange.tracking.views import link_query, send_visitor

bp = Blueprint("vertical_forms", __name__)
# The hidden inputs that TrustedForm's and Jornaya's scripts fill with their certificate's id.
CERTIFICATE_INPUTS = ("xxTrustedFormCertUrl", "universal_leadid")


@bp.get("/v/<token>")
def vertical_click(token: str):
    target = vertical_link_target(token, current_app.config["LINK_CACHE_SECONDS"])
    if target is None or not target.takes_traffic:
        abort(404)
    subs, params = link_query(request)
    click = record_vertical_click(
        target, subs, request.remote_addr, request.headers.get("User-Agent"), params
    )
    if click.written:
        commit()  # direct-insert mode; with a buffer nothing was written
    return send_visitor(url_for(".vertical_form", token=token, click_id=click.click_id, _external=True))


@bp.route("/v/<token>/form", methods=["GET", "POST"])
@hosted_form_per_address
def vertical_form(token: str):
    seller = serving_seller(token)
    if seller is None:
        abort(404)
    vertical = seller.vertical
    click_id = own_click_id(request.values.get("click_id", ""), seller)
    values: dict = {}
    errors: dict = {}
    certificates = {name: request.form.get(name, "").strip() for name in CERTIFICATE_INPUTS}
    if request.method == "POST":
        certificate = _certificate(certificates)
        taken, values, errors = take_form(
            vertical.fields, lambda values: submit_form(seller, values, click_id, certificate, _visitor())
        )
        if taken:
            return render_template("form_thanks.html", subject=vertical)
    return render_template(
        "form.html",
        subject=vertical,
        click_id=click_id,
        values=values,
        errors=errors,
        input_types=INPUT_TYPES,
        consent=form_consent_text(seller),
        honeypot=HONEYPOT,
        certificate_inputs=certificates,
    ), 422 if errors else 200


def _certificate(certificates: dict[str, str]) -> str | None:
    return next((value for value in certificates.values() if value), None)


def _visitor() -> Visitor:
    return Visitor(
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
        page_url=request.url,
        agreed_at=clock.now(),
    )

"""``GET /c/<token>``: record the click, send the visitor to the landing page.

This route is the reference answer. Most clicks are answered by the WSGI
fast path (exchange/tracking/fastpath.py), which calls the same
``visit_link`` and answers the same bytes without Flask's full dispatch.
"""

from __future__ import annotations

from flask import Blueprint, Request, abort, current_app, redirect, request

from exchange.db import commit
from exchange.metrics import CLICKS_ANSWERED
from exchange.tracking.links import LinkTarget, link_target
from exchange.tracking.services import SUB_KEYS, ClickOutcome, record_click

bp = Blueprint("tracking", __name__)

NOT_TAKING_TRAFFIC = "This offer is not taking traffic right now."


@bp.get("/c/<token>")
def click(token: str):
    target = link_target(token, current_app.config["LINK_CACHE_SECONDS"])
    if target is None:
        abort(404)
    return send_visitor(visit_link(target, request).redirect_to)


def send_visitor(location: str | None):
    """A click's answer: 302 to ``location`` (never cached), or the plain page that says the
    offer takes no traffic when there is nowhere to go."""
    if location is None:
        return NOT_TAKING_TRAFFIC, 200, {"Content-Type": "text/plain"}
    response = redirect(location, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def visit_link(target: LinkTarget, visit: Request) -> ClickOutcome:
    """Record a visit to ``target``'s link (committed in direct-insert mode); where it goes."""
    subs, params = link_query(visit)
    outcome = record_click(target, subs, visit.remote_addr, visit.headers.get("User-Agent"), params)
    if outcome.written:
        commit()  # direct-insert mode; with a buffer nothing was written
    CLICKS_ANSWERED.inc()
    return outcome


def link_query(visit: Request) -> tuple[dict[str, str], dict[str, str]]:
    """A link's sub ids and its other (pass-through) parameters, each with its first value."""
    first_values = dict(visit.args.items())
    subs = {key: first_values.get(key, "") for key in SUB_KEYS}
    params = {name: value for name, value in first_values.items() if name not in SUB_KEYS}
    return subs, params

"""``GET /c/<token>``: record the click, send the visitor to the landing page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request

from exchange.db import commit
from exchange.tracking.links import link_target
from exchange.tracking.services import SUB_KEYS, record_click

bp = Blueprint("tracking", __name__)


@bp.get("/c/<token>")
def click(token: str):
    target = link_target(token, current_app.config["LINK_CACHE_SECONDS"])
    if target is None:
        abort(404)
    subs = {key: request.args.get(key, "") for key in SUB_KEYS}
    params = {name: value for name, value in request.args.items() if name not in SUB_KEYS}
    outcome = record_click(target, subs, request.remote_addr, request.headers.get("User-Agent"), params)
    if outcome.written:
        commit()  # direct-insert mode; with a buffer nothing was written
    if outcome.redirect_to is None:
        return "This offer is not taking traffic right now.", 200, {"Content-Type": "text/plain"}
    response = redirect(outcome.redirect_to, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response

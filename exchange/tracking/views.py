"""``GET /c/<token>``: record the click, send the visitor to the landing page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request

from exchange.db import commit
from exchange.offers.services import participation_by_token
from exchange.tracking.services import SUB_KEYS, record_click

bp = Blueprint("tracking", __name__)


@bp.get("/c/<token>")
def click(token: str):
    participation = participation_by_token(token)
    if participation is None:
        abort(404)
    subs = {key: request.args.get(key, "") for key in SUB_KEYS}
    outcome = record_click(participation, subs, request.remote_addr, request.headers.get("User-Agent"))
    commit()
    if outcome.redirect_to is None:
        return "This offer is not taking traffic right now.", 200, {"Content-Type": "text/plain"}
    response = redirect(outcome.redirect_to, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response

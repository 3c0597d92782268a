"""The demo's own pinged buyer: an endpoint the demo server answers itself, so that a
newcomer sees dynamic bids after ``make run`` with no buyer of its own. Registered outside
production only. It bids on homeowners, more for warmer leads; it passes on the rest."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

bp = Blueprint("demo_buyer", __name__, url_prefix="/demo/buyer")
PING_PATH = "/demo/buyer/ping"
BASE_BID_MINOR = {"cold": 900, "warm": 1400, "hot": 2200}


@bp.post("/ping")
def ping():
    body = request.get_json(silent=True) or {}
    fields = body.get("fields") or {}
    if fields.get("homeowner") is not True:
        return jsonify({"bid_minor": None})
    bid = BASE_BID_MINOR.get(body.get("temperature"), 900) + 10 * int(body.get("score") or 0)
    return jsonify({"bid_minor": min(bid, int(body.get("max_bid_minor") or bid))})

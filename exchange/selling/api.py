"""Sellers submit leads to a vertical."""

from __future__ import annotations

from flask_smorest import Blueprint

from exchange.accounts.auth import actor, api_key_required, caller
from exchange.db import commit
from exchange.idempotency import HEADER_DOC, idempotency_key
from exchange.leads.schemas import WebmasterLeadSchema
from exchange.selling.intake import submit_to_vertical
from exchange.selling.schemas import ExchangeLeadSubmitSchema

blp = Blueprint("selling", __name__, url_prefix="/api/v1", description="Exchange: selling leads")


@blp.route("/verticals/<id:vertical_id>/leads", methods=["POST"])
@api_key_required("webmaster")
@blp.arguments(ExchangeLeadSubmitSchema)
@blp.response(202, WebmasterLeadSchema)
@blp.doc(parameters=[HEADER_DOC])
def submit(payload: dict, vertical_id: int):
    """Submit a lead, with its consent record, to a vertical you sell on. It is validated,
    then auctioned; follow it at ``GET /api/v1/leads/{id}`` and ``/api/v1/sales``."""
    submission = submit_to_vertical(caller().id, vertical_id, payload, actor(), idempotency_key())
    commit()
    headers = {"Idempotent-Replayed": "true"} if submission.replayed else {}
    return submission.lead, 202, headers

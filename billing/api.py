"""Money over the API: own balances and transfers, payouts; admin credits and settlements."""

from __future__ import annotations

from sqlalchemy import select

from billing.events import funds_arrived
from billing.payouts.models import Payout
from billing.payouts.services import settle_by_hand
from billing.schemas import (
    BalanceSchema,
    CreditSchema,
    OwnTransferSchema,
    PayoutSchema,
    SettleSchema,
    TransferSchema,
)
from billing.services import balances_of, credit_advertiser, own_side, transfers_of
from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import User
from exchange.db import commit
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.openapi import Blueprint
from exchange.pagination import PageQuerySchema, page_schema, paginate

blp = Blueprint("billing", __name__, url_prefix="/api/v1", description="Money")


@blp.route("/balance", methods=["GET"])
@api_key_required()
@blp.response(200, BalanceSchema(many=True))
def balance():
    return balances_of(caller().id)


@blp.route("/transfers", methods=["GET"])
@api_key_required()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(OwnTransferSchema))
def transfers(args: dict):
    per_page, page = args["per_page"], args["page"]
    user_id = caller().id
    rows, total = transfers_of(user_id, limit=per_page, offset=(page - 1) * per_page)
    return {
        "items": [own_side(row, user_id) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@blp.route("/payouts", methods=["GET"])
@api_key_required("webmaster", "admin")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(PayoutSchema))
def payouts(args: dict):
    query = select(Payout).order_by(Payout.id.desc())
    if caller().role == "webmaster":
        query = query.where(Payout.webmaster_id == caller().id)
    return paginate(query, args["page"], args["per_page"])


@blp.route("/admin/credits", methods=["POST"])
@api_key_required("admin")
@blp.arguments(CreditSchema)
@blp.response(201, TransferSchema)
@blp.alt_response(404, response="NOT_FOUND", description="No advertiser has that id.")
def admin_credit(data: dict):
    advertiser = db.session.get(User, data["advertiser_id"])
    if advertiser is None or advertiser.role != "advertiser":
        raise NotFound("No such advertiser.", fields={"advertiser_id": ["Unknown advertiser."]})
    transfer = credit_advertiser(advertiser.id, data["currency"], data["amount_minor"], data["reference"])
    funds_arrived(advertiser.id, data["currency"])
    commit()
    return transfer


@blp.route("/admin/payouts/<id:payout_id>/settle", methods=["POST"])
@api_key_required("admin")
@blp.arguments(SettleSchema)
@blp.response(200, PayoutSchema)
def admin_settle(data: dict, payout_id: int):
    payout = settle_by_hand(
        payout_id, paid=data["outcome"] == "paid", settled_by_id=caller().id, note=data["note"]
    )
    commit()
    return payout

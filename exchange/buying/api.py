"""Buy orders (buyers) and the sales they made."""

from __future__ import annotations

from flask_smorest import Blueprint

from exchange.accounts.auth import api_key_required, caller
from exchange.buying.models import BuyOrder
from exchange.buying.schemas import BuyOrderCreateSchema, BuyOrderPatchSchema, BuyOrderSchema
from exchange.buying.services import (
    buy_orders_of,
    create_buy_order,
    own_buy_order,
    today_of,
    update_buy_order,
)
from exchange.db import commit

blp = Blueprint("buy_orders", __name__, url_prefix="/api/v1", description="Exchange buy orders")


def order_view(order: BuyOrder) -> BuyOrder:
    order.today = today_of(order)  # shown beside the settings, never stored
    return order


@blp.route("/buy-orders", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, BuyOrderSchema(many=True))
def list_buy_orders():
    return [order_view(order) for order in buy_orders_of(caller().id)]


@blp.route("/buy-orders", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(BuyOrderCreateSchema)
@blp.response(201, BuyOrderSchema)
def post_buy_order(data: dict):
    order = create_buy_order(caller().id, data)
    commit()
    return order_view(order)


@blp.route("/buy-orders/<id:order_id>", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, BuyOrderSchema)
def read_buy_order(order_id: int):
    return order_view(own_buy_order(caller().id, order_id))


@blp.route("/buy-orders/<id:order_id>", methods=["PATCH"])
@api_key_required("advertiser")
@blp.arguments(BuyOrderPatchSchema)
@blp.response(200, BuyOrderSchema)
def patch_buy_order(changes: dict, order_id: int):
    order = update_buy_order(caller().id, order_id, changes)
    commit()
    return order_view(order)

"""Buy orders (buyers) and the sales they made."""

from __future__ import annotations

from exchange.accounts.auth import actor, api_key_required, caller
from exchange.buying.decisions import approve_sale, reject_sale
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.report import STAFF_ONLY, sales_report
from exchange.buying.returns import open_sale_return, return_states
from exchange.buying.sales import SELLER_HIDDEN, filtered_sales, lead_for_buyer, sale_of, sold_of_text
from exchange.buying.sales_csv import purchases_csv
from exchange.buying.schemas import (
    UNTIL_AFTER_SINCE,
    BuyOrderCreateSchema,
    BuyOrderPatchSchema,
    BuyOrderSchema,
    SaleCsvQuerySchema,
    SaleDecisionSchema,
    SaleQuerySchema,
    SaleReturnSchema,
    SaleSchema,
    SalesReportQuerySchema,
)
from exchange.buying.services import (
    IMMUTABLE,
    buy_orders_of,
    create_buy_order,
    own_buy_order,
    today_of,
    update_buy_order,
)
from exchange.db import commit
from exchange.disputes.api import with_thread
from exchange.disputes.schemas import DisputeWithThreadSchema
from exchange.errors import Forbidden
from exchange.extensions import db
from exchange.openapi import CSV_BODY, Blueprint, json_answer
from exchange.pagination import page_schema, paginate
from exchange.verticals.models import Vertical

blp = Blueprint("buy_orders", __name__, url_prefix="/api/v1", description="Exchange buy orders and sales")
SALE_VIEWS = (
    "Buyers get the sale with its price and the lead bought; sellers their payout, no buyer nor price."
)


def order_view(order: BuyOrder) -> BuyOrder:
    order.today = today_of(order)  # shown beside the settings, never stored
    return order


@blp.route("/buy-orders", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, BuyOrderSchema(many=True))
def list_buy_orders():
    return [order_view(order) for order in buy_orders_of(caller().id)]


@blp.route("/buy-orders", methods=["POST"])
@blp.rules(
    "filters: conditions on the vertical's fields, of their types; countries the vertical sells in",
    "ping_url and post_url: absolute http(s) URLs",
    "schedule: from_hour not equal to to_hour; timezone an IANA name (Europe/Berlin)",
)
@api_key_required("advertiser")
@blp.arguments(BuyOrderCreateSchema)
@blp.response(201, BuyOrderSchema)
@blp.alt_response(404, response="NOT_FOUND", description="No vertical has that id.")
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
@blp.rules(
    "the order after the change follows the rules of POST /api/v1/buy-orders",
    f"{', '.join(IMMUTABLE)}: cannot change",
)
@api_key_required("advertiser")
@blp.arguments(BuyOrderPatchSchema)
@blp.response(200, BuyOrderSchema)
def patch_buy_order(changes: dict, order_id: int):
    order = update_buy_order(caller().id, order_id, changes)
    commit()
    return order_view(order)


SALES = page_schema(SaleSchema)
# A row's money columns are the role's own (spend, earnings, or revenue, payout and margin).
REPORT_ROW = {
    "type": "object",
    "required": ["key", "currency", "sales"],
    "properties": {"key": {"type": "string"}, "currency": {"type": "string"}, "sales": {"type": "integer"}},
    "additionalProperties": {"type": "integer"},
}


def sale_view(user, sale: Sale) -> dict:
    return sale_views(user, [sale])[0]


def sale_views(user, sales: list[Sale]) -> list[dict]:
    """The sales as ``user`` may read them, their return states read at once."""
    states = return_states(sales)
    return [_view(user, sale, states[sale.id]) for sale in sales]


def _view(user, sale: Sale, state) -> dict:
    sale.return_until, sale.return_dispute_id = state  # shown, never stored
    view = SaleSchema().dump(sale)
    if user.role == "webmaster":
        for name in SELLER_HIDDEN:
            view.pop(name, None)
        return view
    view["sold_of"] = sold_of_text(sale, db.session.get(Vertical, sale.vertical_id))
    if user.role == "advertiser":
        view.pop("payout_minor")  # the seller's: with the price it would tell the margin
        view["lead"] = lead_for_buyer(sale)
    return view


@blp.route("/sales", methods=["GET"])
@api_key_required()
@blp.arguments(SaleQuerySchema, location="query")
@blp.doc(responses=json_answer(SALES))
@blp.response(200, description=SALE_VIEWS)
def list_sales(args: dict):
    user = caller()
    page = paginate(filtered_sales(user, args).order_by(Sale.id.desc()), args["page"], args["per_page"])
    page["items"] = sale_views(user, page["items"])
    return page


@blp.route("/sales.csv", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required("advertiser")
@blp.arguments(SaleCsvQuerySchema, location="query")
@blp.doc(responses=CSV_BODY)
@blp.response(
    200,
    description="text/csv: a header row, then every matching purchase (no pages, streamed), newest first",
)
def list_sales_csv(args: dict):
    """Your purchases as CSV, the lead bought in each row as GET /api/v1/sales shows it
    (docs/exchange.md, "Your purchases as CSV"). Buyers only: a seller's side of its sales
    is at GET /api/v1/sales."""
    return purchases_csv(caller(), args)


@blp.route("/sales/<id:sale_id>", methods=["GET"])
@api_key_required()
@blp.doc(responses=json_answer(SaleSchema))
@blp.response(200, description=SALE_VIEWS)
def read_sale(sale_id: int):
    user = caller()
    return sale_view(user, sale_of(user, sale_id))


@blp.route("/sales/<id:sale_id>/approve", methods=["POST"])
@api_key_required("advertiser")
@blp.response(200, SaleSchema)
def post_approve(sale_id: int):
    sale = approve_sale(sale_id, caller().id)
    commit()
    return sale


@blp.route("/sales/<id:sale_id>/reject", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(SaleDecisionSchema, required=False)
@blp.response(200, SaleSchema)
def post_reject(data: dict, sale_id: int):
    sale = reject_sale(sale_id, caller().id, data.get("reason"))
    commit()
    return sale


@blp.route("/sales/<id:sale_id>/return", methods=["POST"])
@blp.rules(
    "an approved sale only, within its vertical's return window (return_until), once",
    "the buyer's returns of one month's purchases on the vertical within the vertical's return_cap_percent",
)
@api_key_required("advertiser")
@blp.arguments(SaleReturnSchema)
@blp.response(201, DisputeWithThreadSchema)
def post_return(data: dict, sale_id: int):
    """The buyer returns a sale: a dispute its seller concedes or contests (POST
    /api/v1/disputes/{id}/answer); contested, the moderators decide. Upheld, the sale's
    price and payout are reversed and its slot freed."""
    dispute = open_sale_return(caller(), actor(), sale_id, data["reason"], data["evidence"])
    commit()
    return with_thread(dispute)


@blp.route("/sales/report", methods=["GET"])
@api_key_required()
@blp.arguments(SalesReportQuerySchema, location="query")
@blp.doc(responses=json_answer(REPORT_ROW, many=True))
@blp.response(200, description="Live sales by group: buyers their spend, sellers their earnings, staff all.")
def get_sales_report(args: dict):
    user = caller()
    if args["group_by"] in STAFF_ONLY and user.role not in ("admin", "moderator"):
        raise Forbidden("Only staff group by buyer or seller.", fields={"group_by": ["Not for your role."]})
    return sales_report(user, args["group_by"], args["since"], args["until"])

"""The auction log through the API, as each party may read it."""

from __future__ import annotations

from exchange.accounts.auth import api_key_required, caller
from exchange.auctions.log import auction_for, auctions_for, view_of
from exchange.auctions.models import Auction
from exchange.openapi import Blueprint, json_answer
from exchange.pagination import PageQuerySchema, paginate

# Each party's view is its own shape (exchange/auctions/log.py); the document says only this much.
AUCTION = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
AUCTION_PAGE = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "items": AUCTION},
        **{name: {"type": "integer"} for name in ("page", "per_page", "total")},
    },
}
blp = Blueprint("auctions", __name__, url_prefix="/api/v1", description="Exchange auction log")
VIEWS = (
    "Staff: candidates, bids (with each buyer's rank among equal bids), steps, sales and prices. "
    "Sellers: the outcome, their payout and their quality multiplier in it. "
    "Buyers: their own bids, results, ranks and why they lost; never another buyer's."
)


@blp.route("/auctions", methods=["GET"])
@api_key_required()
@blp.arguments(PageQuerySchema, location="query")
@blp.doc(responses=json_answer(AUCTION_PAGE))
@blp.response(200, description=VIEWS)
def list_auctions(args: dict):
    user = caller()
    page = paginate(auctions_for(user).order_by(Auction.id.desc()), args["page"], args["per_page"])
    page["items"] = [view_of(user, auction) for auction in page["items"]]
    return page


@blp.route("/auctions/<id:auction_id>", methods=["GET"])
@api_key_required()
@blp.doc(responses=json_answer(AUCTION))
@blp.response(200, description=VIEWS)
def read_auction(auction_id: int):
    user = caller()
    return view_of(user, auction_for(user, auction_id))

"""``GET /api/v1/catalog``: the catalog of ready leads, for buyers and staff."""

from __future__ import annotations

from exchange import clock
from exchange.accounts.auth import api_key_required, caller
from exchange.buying.api import sale_view, sale_views
from exchange.buying.schemas import SaleSchema
from exchange.catalog.purchases import Purchase, buy, buy_all, buy_first
from exchange.catalog.schemas import (
    BasketSchema,
    CatalogPageSchema,
    CatalogQuerySchema,
    NextSchema,
    PurchaseSchema,
    SellerListingPageSchema,
)
from exchange.catalog.search import Search, search
from exchange.db import commit
from exchange.errors import Conflict
from exchange.openapi import Blueprint, json_answer

MAX_CANDIDATES = 300  # the most leads "next" looks at
blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="The catalog of ready leads")


@blp.route("/catalog", methods=["GET"])
@api_key_required("advertiser", "moderator", "admin")
@blp.arguments(CatalogQuerySchema, location="query")
@blp.response(200, CatalogPageSchema)
def get_catalog(args: dict):
    """Leads the auction did not sell, or sold shared with slots left, of the active
    verticals: their facts, never a personal field, and their price now (it falls with
    age, by the vertical's ageing schedule)."""
    return search(Search(**args), clock.now())


@blp.route("/catalog/mine", methods=["GET"])
@api_key_required("webmaster")
@blp.arguments(CatalogQuerySchema, location="query")
@blp.response(200, SellerListingPageSchema)
def get_my_listings(args: dict):
    """Your leads in the catalog now: their age, slots sold and what one slot sold now
    earns you (never the buyer's price). The same filters and sorts."""
    return search(Search(**args, seller_id=caller().id), clock.now())


@blp.route("/catalog/<id:lead_id>/buy", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(PurchaseSchema, required=False)
@blp.doc(responses=json_answer(SaleSchema, status=201))
@blp.response(201, description="The sale, as GET /api/v1/sales/{id} shows it to its buyer (the lead whole).")
def post_purchase(data: dict, lead_id: int):
    """Buy one slot of the lead, or every slot (``exclusive``) while no one has bought one,
    at its price now; the sale is reserved from your available balance and lives as every
    sale does (approve or reject it in its review window). 409 with a code when it cannot
    be bought now: ``sold_out``, ``gone``, ``already_bought``, ``price_changed`` (the new
    price at ``expected_price_minor``), ``insufficient_funds``; 503 ``busy`` when the order
    waited its 10 s for its turn and was withdrawn (nothing bought: try again)."""
    sale = buy(caller().id, Purchase(lead_id, data.get("exclusive", False), data.get("expected_price_minor")))
    commit()
    return sale_view(caller(), sale)


@blp.route("/catalog/baskets", methods=["POST"])
@blp.rules("items: each lead once")
@api_key_required("advertiser")
@blp.arguments(BasketSchema)
@blp.doc(responses=json_answer(SaleSchema, many=True, status=201))
@blp.response(201, description="The sales, in the basket's order.")
def post_basket(data: dict):
    """Buy a selection as one order: every lead of the basket, or none (the first that
    cannot be bought is the 409, its lead at ``lead_ids``)."""
    basket = [
        Purchase(item["lead_id"], item["exclusive"], item["expected_price_minor"]) for item in data["items"]
    ]
    sales = buy_all(caller().id, basket)
    commit()
    return sale_views(caller(), sales)


@blp.route("/catalog/next", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(NextSchema)
@blp.doc(responses=json_answer(SaleSchema, many=True, status=201))
@blp.response(201, description="The sales made: up to count, in the search's order.")
def post_next(data: dict):
    """Buy "the next N that match": up to ``count`` leads of the search (its filters and
    sort) you have not bought, one shared slot each (every slot with ``exclusive_only``) at
    the price the search shows, passing by those that cannot be bought at it (or cost more
    than ``max_price_minor``). 409 ``none_available`` when none can."""
    count, most = data.pop("count"), data.pop("max_price_minor")
    exclusive = data["exclusive_only"]
    wanted = Search(**data, per_page=min(count * 3, MAX_CANDIDATES), not_bought_by=caller().id)
    price = "exclusive_price_minor" if exclusive else "price_minor"
    candidates = [
        Purchase(item["lead_id"], exclusive, item[price])
        for item in search(wanted, clock.now())["items"]
        if item[price] is not None and (most is None or item[price] <= most)
    ]
    sales = buy_first(caller().id, candidates, count)
    if not sales:
        raise Conflict("No lead of this search can be bought now.", code="none_available")
    commit()
    return sale_views(caller(), sales)
